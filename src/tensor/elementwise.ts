import type { FloatArray } from './types.js';

// The optimisers' per-element updates, as the JavaScript backend runs them. The native
// backend (native/dlt_native.c) does the same arithmetic in the same order, in
// doubles, so the two agree to the bit (only matrix products differ between backends).

/**
 * SGD with momentum, in the tutorial's form: v ← γ·v + η·g, then w ← w − v, or with
 * Nesterov's look-ahead w ← w − (γ·v + η·g).
 *
 * Four elements at a time, every load before any store. V8 cannot tell whether a store to
 * v or w changes the g or v it reads next (typed arrays may share a buffer), so with loads
 * and stores interleaved it ran one element at a time: 3.0 ns per element on 200k floats,
 * 1.4 grouped (timed with Node 20). Elements are independent, so the bits are the same.
 */
export function sgdMomentumStep(w: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number, nesterov: boolean): void {
  const n = w.length;
  const whole = n - (n % 4);
  if (nesterov) nesterovFours(w, g, v, lr, momentum, whole);
  else momentumFours(w, g, v, lr, momentum, whole);
  for (let i = whole; i < n; i++) {
    const step = lr * g[i]!;
    const vi = momentum * v[i]! + step;
    v[i] = vi;
    w[i]! -= nesterov ? momentum * vi + step : vi;
  }
}

/** sgdMomentumStep without Nesterov on elements [0, end), end a multiple of 4. */
function momentumFours(w: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number, end: number): void {
  for (let i = 0; i < end; i += 4) {
    const v0 = momentum * v[i]! + lr * g[i]!;
    const v1 = momentum * v[i + 1]! + lr * g[i + 1]!;
    const v2 = momentum * v[i + 2]! + lr * g[i + 2]!;
    const v3 = momentum * v[i + 3]! + lr * g[i + 3]!;
    const w0 = w[i]! - v0;
    const w1 = w[i + 1]! - v1;
    const w2 = w[i + 2]! - v2;
    const w3 = w[i + 3]! - v3;
    v[i] = v0;
    v[i + 1] = v1;
    v[i + 2] = v2;
    v[i + 3] = v3;
    w[i] = w0;
    w[i + 1] = w1;
    w[i + 2] = w2;
    w[i + 3] = w3;
  }
}

/** sgdMomentumStep with Nesterov on elements [0, end), end a multiple of 4. */
function nesterovFours(w: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number, end: number): void {
  for (let i = 0; i < end; i += 4) {
    const s0 = lr * g[i]!;
    const s1 = lr * g[i + 1]!;
    const s2 = lr * g[i + 2]!;
    const s3 = lr * g[i + 3]!;
    const v0 = momentum * v[i]! + s0;
    const v1 = momentum * v[i + 1]! + s1;
    const v2 = momentum * v[i + 2]! + s2;
    const v3 = momentum * v[i + 3]! + s3;
    const w0 = w[i]! - (momentum * v0 + s0);
    const w1 = w[i + 1]! - (momentum * v1 + s1);
    const w2 = w[i + 2]! - (momentum * v2 + s2);
    const w3 = w[i + 3]! - (momentum * v3 + s3);
    v[i] = v0;
    v[i + 1] = v1;
    v[i + 2] = v2;
    v[i + 3] = v3;
    w[i] = w0;
    w[i + 1] = w1;
    w[i + 2] = w2;
    w[i + 3] = w3;
  }
}

/** sgdMomentumStep on every parameter of a model: ws[i], gs[i] and vs[i] are the i-th one's. */
export function sgdMomentumSteps(
  ws: readonly FloatArray[],
  gs: readonly FloatArray[],
  vs: readonly FloatArray[],
  lr: number,
  momentum: number,
  nesterov: boolean,
): void {
  for (let i = 0; i < ws.length; i++) sgdMomentumStep(ws[i]!, gs[i]!, vs[i]!, lr, momentum, nesterov);
}

/**
 * One Adam update, given the bias-corrected step size η/(1 − β1^t) and √(1 − β2^t):
 * m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², w ← w − stepSize·m / (√v/√(1−β2^t) + ε).
 */
export function adamStep(
  w: FloatArray,
  g: FloatArray,
  m: FloatArray,
  v: FloatArray,
  stepSize: number,
  beta1: number,
  beta2: number,
  sqrtCorrection2: number,
  eps: number,
): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * gi;
    const vi = beta2 * v[i]! + (1 - beta2) * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    w[i]! -= (stepSize * mi) / (Math.sqrt(vi) / sqrtCorrection2 + eps);
  }
}

/** adamStep on every parameter of a model: ws[i], gs[i], ms[i] and vs[i] are the i-th one's. */
export function adamSteps(
  ws: readonly FloatArray[],
  gs: readonly FloatArray[],
  ms: readonly FloatArray[],
  vs: readonly FloatArray[],
  stepSize: number,
  beta1: number,
  beta2: number,
  sqrtCorrection2: number,
  eps: number,
): void {
  for (let i = 0; i < ws.length; i++) adamStep(ws[i]!, gs[i]!, ms[i]!, vs[i]!, stepSize, beta1, beta2, sqrtCorrection2, eps);
}

/** Weight decay's gradient: g += 2·l2·w + l1·sign(w), with sign(0) = 0. */
export function weightDecayGrad(w: FloatArray, g: FloatArray, twoL2: number, l1: number): void {
  const n = w.length;
  for (let i = 0; i < n; i++) {
    const v = w[i]!;
    g[i]! += twoL2 * v + (v > 0 ? l1 : v < 0 ? -l1 : 0);
  }
}

/** ReLU's forward pass: y = x where x > 0, else 0 (a NaN input gives 0). */
export function relu(x: FloatArray, y: FloatArray, count: number): void {
  for (let i = 0; i < count; i++) {
    const v = x[i]!;
    // biome-ignore lint/complexity/useMathMinMax: Math.max(NaN, 0) is NaN, and a NaN input must give 0 here, as in the native kernel
    y[i] = v > 0 ? v : 0;
  }
}

/**
 * ReLU's backward pass from its output: dx = dy where y > 0, else 0. Four elements at a
 * time, every load before any store, for the reason sgdMomentumStep gives: 16,384 floats,
 * 80 → 50 µs (Node 20, a noisy machine).
 */
export function reluGrad(y: FloatArray, dy: FloatArray, dx: FloatArray, count: number): void {
  const whole = count - (count % 4);
  for (let i = 0; i < whole; i += 4) {
    const g0 = y[i]! > 0 ? dy[i]! : 0;
    const g1 = y[i + 1]! > 0 ? dy[i + 1]! : 0;
    const g2 = y[i + 2]! > 0 ? dy[i + 2]! : 0;
    const g3 = y[i + 3]! > 0 ? dy[i + 3]! : 0;
    dx[i] = g0;
    dx[i + 1] = g1;
    dx[i + 2] = g2;
    dx[i + 3] = g3;
  }
  for (let i = whole; i < count; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
}

/** A dense layer's bias: y[i·width + j] += b[j] for the n rows of y. */
export function addBias(y: FloatArray, b: FloatArray, n: number, width: number): void {
  for (let i = 0; i < n; i++) {
    const row = i * width;
    for (let j = 0; j < width; j++) y[row + j]! += b[j]!;
  }
}

/** A dense layer's bias gradient: db[j] += dy[i·width + j], for i = 0 … n−1 in that order. */
export function biasGrad(db: FloatArray, dy: FloatArray, n: number, width: number): void {
  for (let i = 0; i < n; i++) {
    const row = i * width;
    for (let j = 0; j < width; j++) db[j]! += dy[row + j]!;
  }
}

/**
 * Assembles a batch from bytes: row k of `dst` is row rows[k] of `src` (each row
 * `features` bytes long) mapped through `table`, for k < n. A table of the 256 possible
 * values, each worked out once in doubles, gives the same floats as the arithmetic per
 * element would.
 */
export function gatherBytes(dst: FloatArray, src: Uint8Array, rows: Int32Array, n: number, features: number, table: Float64Array): void {
  // Four entries at a time, every load before any store (see sgdMomentumStep): a batch of
  // 64 rows of 784 bytes, 161 → 104 µs (Node 20).
  const whole = features - (features % 4);
  for (let k = 0; k < n; k++) {
    const from = rows[k]! * features;
    const to = k * features;
    for (let f = 0; f < whole; f += 4) {
      const x0 = table[src[from + f]!]!;
      const x1 = table[src[from + f + 1]!]!;
      const x2 = table[src[from + f + 2]!]!;
      const x3 = table[src[from + f + 3]!]!;
      dst[to + f] = x0;
      dst[to + f + 1] = x1;
      dst[to + f + 2] = x2;
      dst[to + f + 3] = x3;
    }
    for (let f = whole; f < features; f++) dst[to + f] = table[src[from + f]!]!;
  }
}
