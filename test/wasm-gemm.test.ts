import { describe, expect, it } from 'vitest';
import { gemm, selectGemmKernel } from '../src/tensor/gemm.js';
import type { FloatArray } from '../src/tensor/types.js';
import { signedLeb128, unsignedLeb128 } from '../src/tensor/wasm.js';
import { Rng } from '../src/util/rng.js';

/**
 * Both of the GEMM's kernels, the wasm SIMD one and the scalar fallback, are compared bit
 * for bit against an oracle, on inputs whose sums are sensitive to the order and the
 * rounding of every operation:
 * - in double precision (float64 operands, or mixed), against a frozen copy of the scalar
 *   GEMM as it was before it had a wasm kernel (below): float64 training and gradient
 *   checking depend on those bits;
 * - in single precision (float32 A, B and C), against a plain triple loop in float32
 *   arithmetic with the same KC slices (singleGemm, below).
 */

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

// ---------------------------------------------------------------------------------------
// The scalar GEMM before the wasm kernel (src/tensor/gemm.ts as of commit edc2106,
// comments and argument checks removed). Do not "fix" or speed up: it is the oracle.
// ---------------------------------------------------------------------------------------

const MR = 4;
const NR = 4;
const KC = 512;
const MC = 64;
const NC = 512;
const packedA = new Float64Array(MC * KC);
const packedB = new Float64Array(KC * NC);
const tile = new Float64Array(MR * NR);

function scalarGemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  b: FloatArray,
  c: FloatArray,
  accumulate: boolean,
): void {
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      const overwrite = pc === 0 && !accumulate;
      packB(transB, b, n, k, jc, nc, pc, kc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packA(transA, a, m, k, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += NR) {
          const cols = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const rows = Math.min(MR, mc - ir);
            microKernel(kc, ir * kc, jr * kc);
            const offset = (ic + ir) * n + jc + jr;
            if (overwrite) storeTile(c, offset, n, rows, cols);
            else addTile(c, offset, n, rows, cols);
          }
        }
      }
    }
  }
}

function packA(transA: boolean, a: FloatArray, m: number, k: number, ic: number, mc: number, pc: number, kc: number): void {
  const dst = packedA;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    const panel = ir * kc;
    if (transA) {
      for (let p = 0; p < kc; p++) {
        const src = (pc + p) * m + ic + ir;
        const d = panel + p * MR;
        let r = 0;
        for (; r < rows; r++) dst[d + r] = a[src + r]!;
        for (; r < MR; r++) dst[d + r] = 0;
      }
    } else {
      for (let r = 0; r < MR; r++) {
        if (r < rows) {
          const src = (ic + ir + r) * k + pc;
          for (let p = 0; p < kc; p++) dst[panel + p * MR + r] = a[src + p]!;
        } else {
          for (let p = 0; p < kc; p++) dst[panel + p * MR + r] = 0;
        }
      }
    }
  }
}

function packB(transB: boolean, b: FloatArray, n: number, k: number, jc: number, nc: number, pc: number, kc: number): void {
  const dst = packedB;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    const panel = jr * kc;
    if (transB) {
      for (let s = 0; s < NR; s++) {
        if (s < cols) {
          const src = (jc + jr + s) * k + pc;
          for (let p = 0; p < kc; p++) dst[panel + p * NR + s] = b[src + p]!;
        } else {
          for (let p = 0; p < kc; p++) dst[panel + p * NR + s] = 0;
        }
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const src = (pc + p) * n + jc + jr;
        const d = panel + p * NR;
        let s = 0;
        for (; s < cols; s++) dst[d + s] = b[src + s]!;
        for (; s < NR; s++) dst[d + s] = 0;
      }
    }
  }
}

function microKernel(kc: number, ia: number, ib: number): void {
  const pa = packedA;
  const pb = packedB;
  let c00 = 0,
    c01 = 0,
    c02 = 0,
    c03 = 0;
  let c10 = 0,
    c11 = 0,
    c12 = 0,
    c13 = 0;
  let c20 = 0,
    c21 = 0,
    c22 = 0,
    c23 = 0;
  let c30 = 0,
    c31 = 0,
    c32 = 0,
    c33 = 0;
  for (let p = 0; p < kc; p++) {
    const a0 = pa[ia]!;
    const a1 = pa[(ia + 1) | 0]!;
    const a2 = pa[(ia + 2) | 0]!;
    const a3 = pa[(ia + 3) | 0]!;
    const b0 = pb[ib]!;
    const b1 = pb[(ib + 1) | 0]!;
    const b2 = pb[(ib + 2) | 0]!;
    const b3 = pb[(ib + 3) | 0]!;
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
    ia = (ia + MR) | 0;
    ib = (ib + NR) | 0;
  }
  const t = tile;
  t[0] = c00;
  t[1] = c01;
  t[2] = c02;
  t[3] = c03;
  t[4] = c10;
  t[5] = c11;
  t[6] = c12;
  t[7] = c13;
  t[8] = c20;
  t[9] = c21;
  t[10] = c22;
  t[11] = c23;
  t[12] = c30;
  t[13] = c31;
  t[14] = c32;
  t[15] = c33;
}

function storeTile(c: FloatArray, offset: number, ldc: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * ldc;
    const q = r * NR;
    for (let s = 0; s < cols; s++) c[o + s] = tile[q + s]!;
  }
}

function addTile(c: FloatArray, offset: number, ldc: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const o = offset + r * ldc;
    const q = r * NR;
    for (let s = 0; s < cols; s++) c[o + s]! += tile[q + s]!;
  }
}

/**
 * The float32 GEMM's definition: per KC-deep slice of the shared dimension, a float32 sum
 * from +0 of the float32 products in increasing p; the first slice stored (unless
 * accumulating), later ones added to C, each rounded to float32.
 */
function singleGemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  b: FloatArray,
  c: FloatArray,
  accumulate: boolean,
): void {
  const f = Math.fround;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      for (let pc = 0; pc < k; pc += KC) {
        let sum = 0;
        for (let p = pc; p < Math.min(k, pc + KC); p++) {
          const x = transA ? a[p * m + i]! : a[i * k + p]!;
          const y = transB ? b[j * k + p]! : b[p * n + j]!;
          sum = f(sum + f(x * y));
        }
        c[i * n + j] = pc === 0 && !accumulate ? sum : f(c[i * n + j]! + sum);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------

/**
 * Random values whose magnitudes span 2^±20, so that sums of their products round
 * differently in any other order or with any other rounding (a fused multiply-add, a
 * float32 partial sum); about 1 in `zeros` of them ±0.
 */
function randomArray(ctor: Ctor, length: number, name: string, zeros = 50): FloatArray {
  const rng = Rng.derive(11, name);
  const out = new ctor(length);
  for (let i = 0; i < length; i++) {
    const r = rng.nextInt(zeros);
    out[i] = r === 0 ? 0 : r === 1 ? -0 : (2 * rng.nextFloat() - 1) * 2 ** (rng.nextInt(41) - 20);
  }
  return out;
}

/**
 * Index of the first element whose bits differ, or -1. All NaNs count as equal: which NaN
 * an invalid operation gives (sign, payload) is left open by WebAssembly, as by IEEE 754.
 */
function firstDifference(x: FloatArray, y: FloatArray): number {
  const view = (a: FloatArray) =>
    a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const bx = view(x);
  const by = view(y);
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]) && Number.isNaN(y[i])) continue;
    if (bx[i] !== by[i]) return i;
  }
  return x.length === y.length ? -1 : Math.min(x.length, y.length);
}

const DTYPES: [string, Ctor][] = [
  ['float64', Float64Array],
  ['float32', Float32Array],
];
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
// [m, n, k]: tiny and odd shapes, ragged against the 4×4 tile; m > MC = 64 with k > KC =
// 512; n > NC = 512 twice over with k just past KC; the MLP's first layer.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [17, 1, 33],
  [65, 129, 67],
  [130, 70, 600],
  [67, 1030, 515],
  [64, 256, 784],
];
const KERNELS = ['wasm', 'scalar'] as const;

describe('gemm kernels are bit-identical to their oracles', () => {
  it('has the wasm SIMD kernel on this engine (Node ≥ 20)', () => {
    expect(selectGemmKernel('wasm')).toBe('wasm');
  });

  for (const [dtype, ctor] of DTYPES) {
    const oracle = ctor === Float32Array ? singleGemm : scalarGemm;
    for (const [transA, transB] of TRANSPOSES) {
      for (const accumulate of [false, true]) {
        it(`${dtype}, transA=${transA}, transB=${transB}, accumulate=${accumulate}`, () => {
          for (const [m, n, k] of SHAPES) {
            const tag = `${m}x${n}x${k}`;
            const a = randomArray(ctor, m * k, `a${tag}`);
            const b = randomArray(ctor, k * n, `b${tag}`);
            const c0 = accumulate ? randomArray(ctor, m * n, `c${tag}`) : new ctor(m * n).fill(NaN);
            const want = c0.slice();
            oracle(transA, transB, m, n, k, a, b, want, accumulate);
            for (const kernel of KERNELS) {
              expect(selectGemmKernel(kernel)).toBe(kernel);
              const got = c0.slice();
              gemm(transA, transB, m, n, k, a, b, got, accumulate);
              expect(firstDifference(got, want), `${kernel} ${tag}`).toBe(-1);
            }
          }
          selectGemmKernel('wasm');
        });
      }
    }

    it(`${dtype}: infinities, NaNs, signed zeros, subnormals and overflow come out the same`, () => {
      const [m, n, k] = [9, 13, 530];
      const specials = [Infinity, -Infinity, NaN, 0, -0, 2 ** -1074, -(2 ** -1060), 1e300, -3e38, 2 ** -140];
      const a = randomArray(ctor, m * k, 'a-special', 4);
      const b = randomArray(ctor, k * n, 'b-special', 4);
      const rng = Rng.derive(11, 'specials');
      for (let i = 0; i < 40; i++) {
        const x = rng.nextInt(2) === 0 ? a : b;
        x[rng.nextInt(x.length)] = specials[rng.nextInt(specials.length)]!;
      }
      // A row of op(A) all -0 times a column of op(B) all positive: a sum of -0 products,
      // +0 only because the sum starts from +0.
      for (let p = 0; p < k; p++) a[2 * k + p] = -0;
      for (let p = 0; p < k; p++) b[p * n + 3] = 1.5;
      for (const accumulate of [false, true]) {
        const c0 = randomArray(ctor, m * n, 'c-special', 4);
        const want = c0.slice();
        oracle(false, false, m, n, k, a, b, want, accumulate);
        for (const kernel of KERNELS) {
          selectGemmKernel(kernel);
          const got = c0.slice();
          gemm(false, false, m, n, k, a, b, got, accumulate);
          expect(firstDifference(got, want), `${kernel}, accumulate=${accumulate}`).toBe(-1);
        }
      }
      selectGemmKernel('wasm');
    });
  }

  it('float32 operands with a float64 C (or any float64 operand) are computed in doubles', () => {
    const [m, n, k] = [13, 21, 600];
    const a = randomArray(Float32Array, m * k, 'a-mixed');
    const b = randomArray(Float32Array, k * n, 'b-mixed');
    const want = new Float64Array(m * n);
    scalarGemm(false, true, m, n, k, a, b, want, false);
    const single = new Float32Array(m * n);
    singleGemm(false, true, m, n, k, a, b, single, false);
    expect(firstDifference(Float64Array.from(single), want)).not.toBe(-1);
    for (const kernel of KERNELS) {
      selectGemmKernel(kernel);
      const got = new Float64Array(m * n);
      gemm(false, true, m, n, k, a, b, got, false);
      expect(firstDifference(got, want), kernel).toBe(-1);
    }
    selectGemmKernel('wasm');
  });

  it('switching kernels between calls leaves no stale state behind', () => {
    const [m, n, k] = [70, 530, 520];
    const a = randomArray(Float32Array, m * k, 'a-switch');
    const b = randomArray(Float32Array, k * n, 'b-switch');
    const want = new Float32Array(m * n);
    singleGemm(true, false, m, n, k, a, b, want, false);
    for (const kernel of ['scalar', 'wasm', 'wasm', 'scalar'] as const) {
      selectGemmKernel(kernel);
      const got = new Float32Array(m * n);
      gemm(true, false, m, n, k, a, b, got, false);
      gemm(false, true, 5, 3, 2, a, b, new Float32Array(15), false); // something else in the workspaces
      expect(firstDifference(got, want), kernel).toBe(-1);
    }
    selectGemmKernel('wasm');
  });
});

describe('wasm encoder', () => {
  it('encodes LEB128 as the WebAssembly specification does', () => {
    expect(unsignedLeb128(0)).toEqual([0x00]);
    expect(unsignedLeb128(127)).toEqual([0x7f]);
    expect(unsignedLeb128(128)).toEqual([0x80, 0x01]);
    expect(unsignedLeb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(unsignedLeb128(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(signedLeb128(0)).toEqual([0x00]);
    expect(signedLeb128(63)).toEqual([0x3f]);
    expect(signedLeb128(64)).toEqual([0xc0, 0x00]);
    expect(signedLeb128(-1)).toEqual([0x7f]);
    expect(signedLeb128(-64)).toEqual([0x40]);
    expect(signedLeb128(-65)).toEqual([0xbf, 0x7f]);
    expect(signedLeb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(signedLeb128(0x7fffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(signedLeb128(-0x80000000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
    expect(() => unsignedLeb128(-1)).toThrow(RangeError);
    expect(() => signedLeb128(2 ** 31)).toThrow(RangeError);
  });
});
