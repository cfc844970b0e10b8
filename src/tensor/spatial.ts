import type { FloatArray } from './types.js';

// The convolution and pooling loops around the matrix multiply, as the JavaScript
// backend runs them. The native backend (native/dlt_native.c) does the same operations
// in the same order, so the two agree to the bit.

/**
 * cols (C·k·k, n·Hout·Wout) ← the receptive fields of x (n, C, H, W): row (c, i, j), column
 * (sample, oy, ox) holds x[sample, c, oy·s − p + i, ox·s − p + j], or 0 in the padding.
 */
export function im2col(
  cols: FloatArray,
  x: FloatArray,
  n: number,
  C: number,
  H: number,
  W: number,
  k: number,
  s: number,
  p: number,
  outH: number,
  outW: number,
): void {
  const P = outH * outW;
  const rowLength = n * P;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const row = ((c * k + i) * k + j) * rowLength;
        for (let sample = 0; sample < n; sample++) {
          const plane = (sample * C + c) * H * W;
          let dst = row + sample * P;
          for (let oy = 0; oy < outH; oy++) {
            const iy = oy * s - p + i;
            if (iy < 0 || iy >= H) {
              cols.fill(0, dst, dst + outW);
              dst += outW;
              continue;
            }
            const line = plane + iy * W;
            for (let ox = 0; ox < outW; ox++, dst++) {
              const ix = ox * s - p + j;
              cols[dst] = ix >= 0 && ix < W ? x[line + ix]! : 0;
            }
          }
        }
      }
    }
  }
}

/**
 * dx (n, C, H, W) ← Σ over receptive fields of dcols (C·k·k, n·Hout·Wout): the adjoint of
 * im2col. A pixel in several fields (stride < k) receives the sum; padding cells are dropped.
 */
export function col2im(
  dx: FloatArray,
  dcols: FloatArray,
  n: number,
  C: number,
  H: number,
  W: number,
  k: number,
  s: number,
  p: number,
  outH: number,
  outW: number,
): void {
  const P = outH * outW;
  const rowLength = n * P;
  dx.fill(0, 0, n * C * H * W);
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const row = ((c * k + i) * k + j) * rowLength;
        for (let sample = 0; sample < n; sample++) {
          const plane = (sample * C + c) * H * W;
          let src = row + sample * P;
          for (let oy = 0; oy < outH; oy++) {
            const iy = oy * s - p + i;
            if (iy < 0 || iy >= H) {
              src += outW;
              continue;
            }
            const line = plane + iy * W;
            for (let ox = 0; ox < outW; ox++, src++) {
              const ix = ox * s - p + j;
              if (ix >= 0 && ix < W) dx[line + ix]! += dcols[src]!;
            }
          }
        }
      }
    }
  }
}

/** y (n, F, P) ← filter-major wm (F, n·P) reordered sample-major, plus bias b[f]. */
export function addBiasSampleMajor(y: FloatArray, wm: FloatArray, b: FloatArray, F: number, n: number, P: number): void {
  for (let f = 0; f < F; f++) {
    const bf = b[f]!;
    for (let i = 0; i < n; i++) {
      const src = f * n * P + i * P;
      const dst = (i * F + f) * P;
      for (let q = 0; q < P; q++) y[dst + q] = wm[src + q]! + bf;
    }
  }
}

/** dY (F, n·P) ← dy (n, F, P) reordered filter-major; db[f] += Σ of dy over samples and positions. */
export function filterMajorBiasGrad(dY: FloatArray, dy: FloatArray, db: FloatArray, F: number, n: number, P: number): void {
  for (let f = 0; f < F; f++) {
    let sum = 0; // in a double, before touching a (possibly float32) grad
    for (let i = 0; i < n; i++) {
      const src = (i * F + f) * P;
      const dst = f * n * P + i * P;
      for (let q = 0; q < P; q++) {
        const g = dy[src + q]!;
        dY[dst + q] = g;
        sum += g;
      }
    }
    db[f]! += sum;
  }
}

/**
 * Max pooling of `planes` maps of H×W: y and argmax (planes, outH, outW) ← the largest x
 * in each size×size window (windows `stride` apart) and its flat index into x. Ties go to
 * the first in row-major order; a NaN wins, so it propagates. The loops run offset by
 * offset within the window, each across a whole row of outputs, so that the native
 * kernel can compare a vector of windows at a time; each window still sees its inputs in
 * row-major order. Only the first planes·outH·outW entries of y and argmax are written.
 */
export function maxPool(
  x: FloatArray,
  y: FloatArray,
  argmax: Int32Array,
  planes: number,
  H: number,
  W: number,
  size: number,
  stride: number,
  outH: number,
  outW: number,
): void {
  for (let plane = 0; plane < planes; plane++) {
    for (let oy = 0; oy < outH; oy++) {
      const out = (plane * outH + oy) * outW;
      const top = plane * H * W + oy * stride * W;
      for (let ox = 0; ox < outW; ox++) {
        y[out + ox] = x[top + ox * stride]!;
        argmax[out + ox] = top + ox * stride;
      }
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          const line = top + i * W + j;
          for (let ox = 0; ox < outW; ox++) {
            const v = x[line + ox * stride]!;
            const best = y[out + ox]!;
            if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
              y[out + ox] = v;
              argmax[out + ox] = line + ox * stride;
            }
          }
        }
      }
    }
  }
}
