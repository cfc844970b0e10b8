/**
 * The native backend (native/dlt_native.c, CBLAS + C loops) against the JavaScript
 * reference kernels: gemm to within float rounding, the optimisers' elementwise updates
 * to the bit, misuse as a thrown RangeError, backend selection, and whole training runs.
 *
 * On a machine where the addon did not build or load (no BLAS), the tests that need it
 * are skipped, and their names say why.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { readSafetensors } from '../src/snapshot/safetensors.js';
import { selectKernels } from '../src/tensor/backend.js';
import { jsKernels, type Kernels } from '../src/tensor/kernels.js';
import { type Addon, nativeKernels, nativeStatus } from '../src/tensor/native.js';
import type { FloatArray } from '../src/tensor/types.js';
import type { Reporter } from '../src/train/reporter.js';
import type { RunSummary } from '../src/train/runSummary.js';
import { train } from '../src/train/train.js';
import { Rng } from '../src/util/rng.js';
import { tempDir } from './support/cli.js';
import { inputErrorOf } from './support/layers.js';
import { metricsWithoutClock, sha256, snapshotFiles, snapshotFingerprint, summaryWithoutClock } from './support/resumeSupport.js';

const status = nativeStatus();
const unavailable = !status.loaded;
/** Appended to the name of every test that needs the addon, so a skip says why. */
const needsNative = status.loaded ? '' : ` [skipped: native backend unavailable: ${status.reason}]`;

/** The addon; only called inside tests that are skipped when it did not load. */
function addon(): Addon {
  if (!status.loaded) throw new Error(`native backend unavailable: ${status.reason}`);
  return status.addon;
}

/** Native kernels with one BLAS thread, or `threads`. */
function native(threads = 1): Kernels {
  return nativeKernels(addon(), threads);
}

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;
const DTYPES: { dtype: 'float32' | 'float64'; ctor: Ctor }[] = [
  { dtype: 'float32', ctor: Float32Array },
  { dtype: 'float64', ctor: Float64Array },
];

/** Uniform values in [−1, 1), seeded by `name`. */
function randomArray(ctor: Ctor, length: number, name: string): FloatArray {
  const rng = Rng.derive(11, name);
  const out = new ctor(length);
  for (let i = 0; i < length; i++) out[i] = 2 * rng.nextFloat() - 1;
  return out;
}

/** The raw bits of a float array, for bit-for-bit comparison (NaN payloads and −0 included). */
function bits(x: FloatArray): Uint32Array | BigUint64Array {
  return x instanceof Float32Array ? new Uint32Array(x.buffer, x.byteOffset, x.length) : new BigUint64Array(x.buffer, x.byteOffset, x.length);
}

/** Index of the first element whose bits differ, or −1 when the arrays are bit-identical. */
function firstBitDifference(x: FloatArray, y: FloatArray): number {
  if (x.length !== y.length || x.constructor !== y.constructor) return 0;
  const bx = bits(x);
  const by = bits(y);
  for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) return i;
  return -1;
}

function expectSameBits(got: FloatArray, want: FloatArray, what: string): void {
  const i = firstBitDifference(got, want);
  expect(i, `${what}: first differing element ${i}: ${got[i]} vs ${want[i]}`).toBe(-1);
}

// ---------------------------------------------------------------------------------------
// gemm: native vs JavaScript
// ---------------------------------------------------------------------------------------

/**
 * Tolerance, per entry of C: |native − js| ≤ REL·S_ij + 1e-30, where
 * S_ij = Σ_p |op(A)_ip·op(B)_pj| (+ |C0_ij| when accumulating), computed in float64.
 * S is the natural scale of a dot product's rounding error, and stays meaningful when the
 * sum itself cancels to near zero. REL is 1e-5 for float32 (OpenBLAS's sgemm sums in
 * float32, error up to ~k·2^-24·S, typically far less; the JavaScript kernel sums in
 * doubles and rounds once) and 1e-12 for float64 (both sum in doubles, in different
 * orders: ~k·2^-53·S). When accumulating, the starting C joins S: the result is rounded
 * to the output type at the magnitude of C0 + A·B, so without |C0| a small product added
 * to a large C0 could not be held to REL·Σ|ab| (a one-ulp difference in C would fail).
 */
const REL = { float32: 1e-5, float64: 1e-12 };
const ABS = 1e-30;

/** S_ij of the tolerance above, in float64, straight from the definition. */
function errorScale(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  b: FloatArray,
  c0: FloatArray,
  accumulate: boolean,
): Float64Array {
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = accumulate ? Math.abs(c0[i * n + j]!) : 0;
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * m + i]! : a[i * k + p]!;
        const bpj = transB ? b[j * k + p]! : b[p * n + j]!;
        s += Math.abs(aip * bpj);
      }
      scale[i * n + j] = s;
    }
  }
  return scale;
}

/**
 * The worst entry as a multiple of its allowance (≤ 1 passes; NaN or a length mismatch
 * gives Infinity), with a description of where it is.
 */
function worstError(got: FloatArray, want: FloatArray, scale: Float64Array, rel: number): { ratio: number; detail: string } {
  if (got.length !== want.length || want.length !== scale.length)
    return { ratio: Infinity, detail: `lengths ${got.length}, ${want.length}, ${scale.length}` };
  let ratio = 0;
  let detail = 'all within tolerance';
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i]! - want[i]!) / (rel * scale[i]! + ABS);
    if (!(r <= ratio)) {
      ratio = Number.isNaN(r) ? Infinity : r;
      detail = `entry ${i}: native ${got[i]}, js ${want[i]}, scale ${scale[i]}`;
    }
  }
  return { ratio, detail };
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [17, 1, 33],
  [1, 64, 9],
  [65, 129, 67],
  [128, 3, 300],
  // A small result over a long k, which runs on one BLAS thread when OpenBLAS runs its
  // own threads (3 here) (native/dlt_native.c, gemm): LeNet's first weight gradient at batch 8.
  [20, 25, 4608],
  // On two threads with OpenBLAS, dlt cuts products in two itself (native/dlt_native.c,
  // gemm): 65×129×67 above by rows, 20×25×4608 along k, this one by columns unless A is transposed.
  [9, 301, 400],
];
const CASES = DTYPES.flatMap(({ dtype, ctor }) =>
  SHAPES.flatMap(([m, n, k]) =>
    [1, 2, 3].map((threads) => ({ dtype, ctor, m, n, k, threads, name: `${dtype} ${m}×${n}×${k}, ${threads} thread(s)` })),
  ),
);

describe(`native gemm matches the JavaScript kernel${needsNative}`, () => {
  for (const { dtype, ctor, m, n, k, threads, name } of CASES) {
    it.skipIf(unavailable)(`${name}, all four transposes, with and without accumulate`, () => {
      const kernels = native(threads);
      const a = randomArray(ctor, m * k, `a ${m} ${n} ${k}`);
      const b = randomArray(ctor, k * n, `b ${m} ${n} ${k}`);
      const c0 = randomArray(ctor, m * n, `c ${m} ${n} ${k}`); // non-zero starting C
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const accumulate of [false, true]) {
            const what = `${dtype} m=${m} n=${n} k=${k} transA=${transA} transB=${transB} accumulate=${accumulate}`;
            const want = c0.slice();
            jsKernels.gemm(transA, transB, m, n, k, a, b, want, accumulate);
            const got = c0.slice();
            kernels.gemm(transA, transB, m, n, k, a, b, got, accumulate);
            const { ratio, detail } = worstError(got, want, errorScale(transA, transB, m, n, k, a, b, c0, accumulate), REL[dtype]);
            expect(ratio, `${what}: ${detail}`).toBeLessThanOrEqual(1);
          }
        }
      }
    });
  }

  for (const { dtype, ctor } of DTYPES) {
    it.skipIf(unavailable)(`${dtype}, k = 0: C becomes 0 without accumulate and is unchanged with it`, () => {
      const kernels = native();
      const [m, n] = [3, 4];
      const c0 = randomArray(ctor, m * n, 'k0 c');
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const zeroed = c0.slice();
          kernels.gemm(transA, transB, m, n, 0, new ctor(0), new ctor(0), zeroed, false);
          expect(Array.from(zeroed), `transA=${transA} transB=${transB}`).toEqual(new Array(m * n).fill(0));
          const kept = c0.slice();
          kernels.gemm(transA, transB, m, n, 0, new ctor(0), new ctor(0), kept, true);
          expectSameBits(kept, c0, `transA=${transA} transB=${transB}, accumulate`);
        }
      }
    });
  }

  for (const { dtype, ctor } of DTYPES) {
    it.skipIf(unavailable)(`${dtype}, subarray views: reads and writes the right elements, nothing else`, () => {
      const kernels = native();
      const [m, n, k] = [7, 9, 11];
      // Odd offsets, so no view starts on a 16-byte boundary; spare room after each matrix.
      const [offA, offB, offC, spare] = [3, 5, 7, 6];
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const accumulate of [false, true]) {
            const what = `${dtype} transA=${transA} transB=${transB} accumulate=${accumulate}`;
            const bufA = randomArray(ctor, offA + m * k + spare, 'view a');
            const bufB = randomArray(ctor, offB + k * n + spare, 'view b');
            const bufC = randomArray(ctor, offC + m * n + spare, 'view c');
            const [origA, origB, origC] = [bufA.slice(), bufB.slice(), bufC.slice()];
            const a = bufA.subarray(offA);
            const b = bufB.subarray(offB);
            const c = bufC.subarray(offC);
            // The JavaScript kernel on exact-size copies of the matrices the views start with.
            const c0 = bufC.slice(offC, offC + m * n);
            const want = c0.slice();
            jsKernels.gemm(transA, transB, m, n, k, bufA.slice(offA, offA + m * k), bufB.slice(offB, offB + k * n), want, accumulate);
            kernels.gemm(transA, transB, m, n, k, a, b, c, accumulate);
            const got = bufC.slice(offC, offC + m * n);
            const scale = errorScale(transA, transB, m, n, k, a, b, c0, accumulate);
            const { ratio, detail } = worstError(got, want, scale, REL[dtype]);
            expect(ratio, `${what}: ${detail}`).toBeLessThanOrEqual(1);
            // The rest of C's buffer (before the view and after its first m·n entries) and the inputs are untouched.
            expectSameBits(bufC.subarray(0, offC), origC.subarray(0, offC), `${what}: C before the view`);
            expectSameBits(bufC.subarray(offC + m * n), origC.subarray(offC + m * n), `${what}: C after m·n entries`);
            expectSameBits(bufA, origA, `${what}: A`);
            expectSameBits(bufB, origB, `${what}: B`);
          }
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------
// Optimiser updates: native vs JavaScript, bit for bit
// ---------------------------------------------------------------------------------------

/**
 * Realistic values: weights ~ 𝒩(0, 0.1²), gradients ~ 𝒩(0, 0.01²), with some exact
 * zeros (dead ReLUs) and some tiny gradients (whose squares are float32 denormals).
 */
function parameterLike(ctor: Ctor, length: number, name: string, sd: number): FloatArray {
  const rng = Rng.derive(5, name);
  const out = new ctor(length);
  for (let i = 0; i < length; i++) {
    const r = rng.nextFloat();
    out[i] = r < 0.05 ? 0 : r < 0.1 ? 1e-21 * rng.normal() : sd * rng.normal();
  }
  return out;
}

const LENGTHS = [1, 7, 1001];
const UPDATE_CASES = DTYPES.flatMap(({ dtype, ctor }) => LENGTHS.map((length) => ({ dtype, ctor, length })));
const STEPS = 5;

describe(`native optimiser updates are bit-identical to the JavaScript ones${needsNative}`, () => {
  for (const { dtype, ctor, length } of UPDATE_CASES) {
    it.skipIf(unavailable)(`sgdMomentumSteps, ${dtype}, length ${length}, nesterov and not, ${STEPS} steps`, () => {
      const kernels = native();
      const [lr, momentum] = [0.05, 0.9];
      for (const nesterov of [false, true]) {
        const wJs = parameterLike(ctor, length, `sgd w ${length}`, 0.1);
        const vJs = new ctor(length);
        const [wNative, vNative] = [wJs.slice(), vJs.slice()];
        for (let t = 1; t <= STEPS; t++) {
          const g = parameterLike(ctor, length, `sgd g ${length} ${t}`, 0.01);
          jsKernels.sgdMomentumSteps([wJs], [g], [vJs], lr, momentum, nesterov);
          kernels.sgdMomentumSteps([wNative], [g], [vNative], lr, momentum, nesterov);
          const what = `${dtype} length ${length} nesterov=${nesterov} step ${t}`;
          expectSameBits(wNative, wJs, `${what}: w`);
          expectSameBits(vNative, vJs, `${what}: v`);
        }
        // The updates did something (a kernel that did nothing would match a JS kernel that did nothing).
        expect(firstBitDifference(wJs, parameterLike(ctor, length, `sgd w ${length}`, 0.1))).not.toBe(-1);
      }
    });
  }

  for (const { dtype, ctor, length } of UPDATE_CASES) {
    it.skipIf(unavailable)(`adamSteps, ${dtype}, length ${length}, steps t = 1..${STEPS}`, () => {
      const kernels = native();
      const [lr, beta1, beta2, eps] = [0.05, 0.9, 0.999, 1e-8];
      const wJs = parameterLike(ctor, length, `adam w ${length}`, 0.1);
      const [mJs, vJs] = [new ctor(length), new ctor(length)];
      const [wNative, mNative, vNative] = [wJs.slice(), mJs.slice(), vJs.slice()];
      for (let t = 1; t <= STEPS; t++) {
        const g = parameterLike(ctor, length, `adam g ${length} ${t}`, 0.01);
        const stepSize = lr / (1 - beta1 ** t);
        const sqrtCorrection2 = Math.sqrt(1 - beta2 ** t);
        jsKernels.adamSteps([wJs], [g], [mJs], [vJs], stepSize, beta1, beta2, sqrtCorrection2, eps);
        kernels.adamSteps([wNative], [g], [mNative], [vNative], stepSize, beta1, beta2, sqrtCorrection2, eps);
        const what = `${dtype} length ${length} step ${t}`;
        expectSameBits(wNative, wJs, `${what}: w`);
        expectSameBits(mNative, mJs, `${what}: m`);
        expectSameBits(vNative, vJs, `${what}: v`);
      }
      expect(firstBitDifference(wJs, parameterLike(ctor, length, `adam w ${length}`, 0.1))).not.toBe(-1);
    });
  }
});

// ---------------------------------------------------------------------------------------
// Misuse: a RangeError from the addon's checks, before any memory is touched
// ---------------------------------------------------------------------------------------

describe(`native misuse is a thrown RangeError, not a crash${needsNative}`, () => {
  it.skipIf(unavailable)('gemm with mixed Float32Array and Float64Array', () => {
    const kernels = native();
    const c = new Float32Array(4).fill(3);
    expect(() => kernels.gemm(false, false, 2, 2, 2, new Float32Array(4), new Float64Array(4), c, false)).toThrow(RangeError);
    expect(() => kernels.gemm(false, false, 2, 2, 2, new Float64Array(4), new Float64Array(4), c, false)).toThrow(RangeError);
    expect(Array.from(c)).toEqual([3, 3, 3, 3]);
  });

  it.skipIf(unavailable)('gemm with an array shorter than its matrix', () => {
    const kernels = native();
    const [m, n, k] = [3, 4, 5];
    for (const ctor of [Float32Array, Float64Array]) {
      const c = new ctor(m * n).fill(3);
      expect(() => kernels.gemm(false, false, m, n, k, new ctor(m * k - 1), new ctor(k * n), c, false), `${ctor.name} A`).toThrow(RangeError);
      expect(() => kernels.gemm(true, false, m, n, k, new ctor(m * k - 1), new ctor(k * n), c, false), `${ctor.name} Aᵀ`).toThrow(RangeError);
      expect(() => kernels.gemm(false, false, m, n, k, new ctor(m * k), new ctor(k * n - 1), c, false), `${ctor.name} B`).toThrow(RangeError);
      expect(() => kernels.gemm(false, false, m, n, k, new ctor(m * k), new ctor(k * n), c.subarray(1), false), `${ctor.name} C`).toThrow(RangeError);
      expect(Array.from(c), `${ctor.name}: C untouched`).toEqual(new Array(m * n).fill(3));
    }
  });

  it.skipIf(unavailable)('sgdMomentumSteps and adamSteps with a short or mistyped array, or lists of different lengths: nothing updated', () => {
    const kernels = native();
    const w = new Float32Array(8).fill(1);
    const v = new Float32Array(8);
    const ok = [new Float32Array(3).fill(1), new Float32Array(3).fill(1), new Float32Array(3)] as const;
    const sgd = (g: FloatArray) => kernels.sgdMomentumSteps([ok[0], w], [ok[1], g], [ok[2], v], 0.05, 0.9, false);
    expect(() => sgd(new Float32Array(7))).toThrow('sgdMomentumSteps: an array is shorter than the parameter');
    expect(() => sgd(new Float64Array(8))).toThrow('sgdMomentumSteps: all arrays must have the same element type');
    expect(() => kernels.sgdMomentumSteps([w], [w, w], [v], 0.05, 0.9, false)).toThrow('one entry per parameter each');
    expect(() =>
      kernels.adamSteps(
        [ok[0], w],
        [ok[1], new Float32Array(8)],
        [ok[2], new Float32Array(7)],
        [ok[2], new Float32Array(8)],
        0.5,
        0.9,
        0.999,
        0.04,
        1e-8,
      ),
    ).toThrow(RangeError);
    expect(Array.from(w)).toEqual(new Array(8).fill(1));
    expect(Array.from(v)).toEqual(new Array(8).fill(0));
    expect(Array.from(ok[0]), 'the first parameter, which was fine, is not updated either').toEqual([1, 1, 1]);
  });
});

// ---------------------------------------------------------------------------------------
// Backend selection
// ---------------------------------------------------------------------------------------

describe('selectKernels', () => {
  it.skipIf(unavailable)(`'native' with 2 threads gives the native kernels on 2 threads${needsNative}`, () => {
    try {
      const kernels = selectKernels('native', 2);
      expect(kernels.name).toBe('native');
      expect(kernels.threads).toBe(2);
      if (addon().info().blas === 'openblas') expect(addon().info().threads).toBe(2);
    } finally {
      selectKernels('native', 1); // the BLAS's thread count is process-wide: put it back
    }
  });

  it.skipIf(status.loaded)(`'native' without the addon is an InputError naming the reason [runs only when the native backend is unavailable]`, () => {
    const message = inputErrorOf(() => selectKernels('native', 2)).message;
    expect(message).toContain('the native backend is unavailable');
    if (!status.loaded) expect(message).toContain(status.reason);
  });

  it("'js' gives the JavaScript kernels", () => {
    const kernels = selectKernels('js');
    expect(kernels.name).toBe('js');
    expect(kernels).toBe(jsKernels);
  });

  it('an unknown backend is an InputError', () => {
    expect(inputErrorOf(() => selectKernels('bogus')).message).toMatch(/unknown backend "bogus"/);
  });
});

// ---------------------------------------------------------------------------------------
// Training on both backends
// ---------------------------------------------------------------------------------------

const silent: Reporter = { runDir() {}, info() {}, warn() {}, epochStart() {}, progress() {}, epochEnd() {} };

/** Three spiral arms, a small MLP, SGD with Nesterov momentum, float32: seconds per run. */
const spiralConfig = configSchema.parse({
  name: 'native-spiral',
  seed: 3,
  data: {
    train: { format: 'spiral', classes: 3, points_per_class: 80, noise: 0.1 },
    test: { format: 'spiral', classes: 3, points_per_class: 40, noise: 0.1 },
    validation: { fraction: 0.2 },
  },
  model: {
    input: [2],
    layers: [{ type: 'dense', units: 32 }, 'relu', { type: 'dense', units: 32 }, 'relu', { type: 'dense', units: 3, init: 'xavier' }],
  },
  optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
  training: { epochs: 40, batch_size: 16, keep_snapshots: 2, log_every: 5 },
});
/** Test accuracy both backends must reach: with seeds 1–6 both reached 0.958–0.975 (chance is 1/3). */
const MIN_ACCURACY = 0.85;

describe(`training on the JavaScript and native backends${needsNative}`, () => {
  const runs = {} as Record<'js' | 'native' | 'nativeAgain', RunSummary>; // filled by beforeAll
  // Made in beforeAll: when every test here is skipped, vitest runs neither hook.
  let tmp: ReturnType<typeof tempDir> | undefined;
  afterAll(() => tmp?.cleanup());

  beforeAll(async () => {
    if (unavailable) return;
    tmp = tempDir('dlt-native-');
    runs.js = await train(spiralConfig, { outDir: path.join(tmp.dir, 'js'), kernels: jsKernels, reporter: silent });
    runs.native = await train(spiralConfig, { outDir: path.join(tmp.dir, 'native'), kernels: native(), reporter: silent });
    runs.nativeAgain = await train(spiralConfig, { outDir: path.join(tmp.dir, 'native-again'), kernels: native(), reporter: silent });
  });

  it.skipIf(unavailable)('both learn the spiral, and the summary names the backend', () => {
    for (const [backend, summary] of [
      ['js', runs.js],
      ['native', runs.native],
    ] as const) {
      expect(summary.backend, backend).toBe(backend);
      expect(summary.epochs, backend).toBe(40);
      expect(summary.test_accuracy, `${backend} test accuracy`).toBeGreaterThan(MIN_ACCURACY);
    }
  });

  it.skipIf(unavailable)('two native runs give identical metrics and snapshots', () => {
    const [a, b] = [runs.native.run_dir, runs.nativeAgain.run_dir];
    expect(a).not.toBe(b);
    expect(metricsWithoutClock(b)).toEqual(metricsWithoutClock(a));
    expect(summaryWithoutClock(b)).toEqual(summaryWithoutClock(a));
    // Whole files differ in the header's wall-clock fields (train_seconds, and the hash of
    // the log's last record, which holds clock fields), and so does the checksum over the
    // header; the tensors' bytes and the rest of the state must not.
    const files = snapshotFiles(a);
    expect(files).toContain('best.safetensors');
    expect(snapshotFiles(b)).toEqual(files);
    for (const f of files) {
      expect(snapshotFingerprint(path.join(b, f)), f).toEqual(snapshotFingerprint(path.join(a, f)));
      expect(sha256(readSafetensors(path.join(b, f)).data), `${f}: the data region`).toBe(sha256(readSafetensors(path.join(a, f)).data));
    }
  });
});

describe('the install-time build (scripts/build-native.mjs)', () => {
  it('with the BLAS hidden (DLT_NO_BLAS=1) it exits 0, builds nothing and records why', () => {
    // A copy of the build script and the addon's sources, so that the real native/build
    // is left alone.
    const temp = tempDir();
    const root = temp.dir;
    const repo = path.resolve(import.meta.dirname, '..');
    mkdirSync(path.join(root, 'scripts'));
    cpSync(path.join(repo, 'scripts', 'build-native.mjs'), path.join(root, 'scripts', 'build-native.mjs'));
    cpSync(path.join(repo, 'native'), path.join(root, 'native'), { recursive: true, filter: (src) => !src.includes(`${path.sep}build`) });
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-native.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, DLT_NO_BLAS: '1' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('native backend not built: the BLAS is hidden from the build (DLT_NO_BLAS=1)');
    expect(r.stdout).toContain('apt-get install libopenblas-dev');
    const recorded = JSON.parse(readFileSync(path.join(root, 'native', 'build', 'status.json'), 'utf8'));
    expect(recorded).toEqual({ built: false, reason: 'the BLAS is hidden from the build (DLT_NO_BLAS=1)' });
    expect(existsSync(path.join(root, 'native', 'build', 'Release'))).toBe(false);
    temp.cleanup();
  });
});
