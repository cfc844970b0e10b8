import { describe, expect, it } from 'vitest';
import { gemm } from '../src/tensor/gemm.js';
import type { FloatArray } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * Error bounds, relative to Σ_p |op(A)_ip·op(B)_pj| (+ |C_ij| when accumulating): the
 * natural scale of a dot product's rounding error, which stays meaningful when the sum
 * itself cancels to near zero.
 * - float64: both sides sum in doubles, only in a different order; the difference is at
 *   most ~k·2^-53 ≈ 1e-13 of the scale for k ≤ 800.
 * - float32: the kernel rounds every product and partial sum to float32, as sgemm does;
 *   the worst case for a k-term sum is ~k·2^-24 of the scale (≈ 5e-5 for k = 800), but
 *   the roundings of these seeded random inputs have random signs and stay below 1e-6.
 */
const TOLERANCE = { float64: 1e-12, float32: 1e-6 };

/** Padding written past the end of every buffer: reading it would spread NaN; writing it would change it. */
const GUARD = 4;
const GUARD_VALUE = 12345.5;

function randomArray(ctor: Ctor, length: number, name: string, pad: number): FloatArray {
  const rng = Rng.derive(7, name);
  const out = new ctor(length + GUARD);
  for (let i = 0; i < length; i++) out[i] = 2 * rng.nextFloat() - 1;
  out.fill(pad, length);
  return out;
}

/** Naive triple loop in float64, straight from the definition; also returns the error scale. */
function reference(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  b: FloatArray,
  c0: FloatArray,
  accumulate: boolean,
): { value: Float64Array; scale: Float64Array } {
  const value = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      let magnitude = 0;
      for (let p = 0; p < k; p++) {
        const aip = transA ? a[p * m + i]! : a[i * k + p]!;
        const bpj = transB ? b[j * k + p]! : b[p * n + j]!;
        sum += aip * bpj;
        magnitude += Math.abs(aip * bpj);
      }
      if (accumulate) {
        sum += c0[i * n + j]!;
        magnitude += Math.abs(c0[i * n + j]!);
      }
      value[i * n + j] = sum;
      scale[i * n + j] = magnitude;
    }
  }
  return { value, scale };
}

/** Largest |got − want| / scale over C; Infinity when an exactly-zero expectation is missed. */
function worstRelativeError(got: FloatArray, want: Float64Array, scale: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const error = Math.abs(got[i]! - want[i]!);
    const relative = error === 0 ? 0 : error / scale[i]!;
    if (!(relative <= worst)) worst = relative; // also catches NaN
  }
  return worst;
}

/** Index of the first byte where x and y differ, or -1 when they are bit-identical. */
function firstDifferentByte(x: FloatArray, y: FloatArray): number {
  const bx = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  const by = new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  if (bx.length !== by.length) return Math.min(bx.length, by.length);
  for (let i = 0; i < bx.length; i++) if (bx[i] !== by[i]) return i;
  return -1;
}

const DTYPES: [keyof typeof TOLERANCE, Ctor][] = [
  ['float64', Float64Array],
  ['float32', Float32Array],
];
const TRANSPOSES: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
// [m, n, k]: tiny; odd sizes below, at and above the 4×4 register tile; m and n smaller
// than a tile with k > 512 (two depth slices); the MLP's first layer; and m > 64,
// n > 512, k > 512, which crosses every cache block boundary with a ragged remainder.
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [17, 13, 9],
  [2, 3, 600],
  [64, 256, 784],
  [70, 530, 520],
];

describe('gemm', () => {
  for (const [dtype, ctor] of DTYPES) {
    for (const [transA, transB] of TRANSPOSES) {
      for (const accumulate of [false, true]) {
        it(`${dtype}, transA=${transA}, transB=${transB}, accumulate=${accumulate} matches the naive product`, () => {
          for (const [m, n, k] of SHAPES) {
            const tag = `${m}x${n}x${k}`;
            const a = randomArray(ctor, m * k, `a${tag}`, NaN);
            const b = randomArray(ctor, k * n, `b${tag}`, NaN);
            // Without accumulate, C starts as NaN: any entry read instead of overwritten shows up.
            const c = accumulate ? randomArray(ctor, m * n, `c${tag}`, GUARD_VALUE) : new ctor(m * n + GUARD).fill(NaN);
            c.fill(GUARD_VALUE, m * n);
            const { value, scale } = reference(transA, transB, m, n, k, a, b, c, accumulate);

            gemm(transA, transB, m, n, k, a, b, c, accumulate);

            expect(worstRelativeError(c, value, scale), tag).toBeLessThanOrEqual(TOLERANCE[dtype]);
            expect(Array.from(c.subarray(m * n)), `${tag}: entries past m·n`).toEqual(Array(GUARD).fill(GUARD_VALUE));
          }
        });
      }
    }

    it(`${dtype}: k = 0 gives zeros, or leaves C unchanged when accumulating`, () => {
      const empty = new ctor(0);
      const c = new ctor(3 * 5 + GUARD).fill(GUARD_VALUE);
      gemm(false, false, 3, 5, 0, empty, empty, c, true);
      expect(Array.from(c)).toEqual(Array(3 * 5 + GUARD).fill(GUARD_VALUE));
      gemm(true, true, 3, 5, 0, empty, empty, c, false);
      expect(Array.from(c)).toEqual([...Array(3 * 5).fill(0), ...Array(GUARD).fill(GUARD_VALUE)]);
    });

    it(`${dtype}: m = 0 or n = 0 touches nothing`, () => {
      const a = randomArray(ctor, 4 * 6, 'a-empty', NaN);
      const c = new ctor(GUARD).fill(GUARD_VALUE);
      gemm(false, false, 0, 6, 4, a, a, c, false);
      gemm(false, false, 6, 0, 4, a, a, c, false);
      expect(Array.from(c)).toEqual(Array(GUARD).fill(GUARD_VALUE));
    });

    it(`${dtype}: repeated calls give bit-identical results`, () => {
      const [m, n, k] = [70, 530, 520];
      const a = randomArray(ctor, k * m, 'a-det', NaN);
      const b = randomArray(ctor, n * k, 'b-det', NaN);
      const c0 = randomArray(ctor, m * n, 'c-det', GUARD_VALUE);
      const first = c0.slice();
      gemm(true, true, m, n, k, a, b, first, true);
      // A different product in between leaves other data in the packing workspaces.
      const other = new ctor(n * n);
      gemm(false, false, n, n, 3, b, b, other, false);
      const second = c0.slice();
      gemm(true, true, m, n, k, a, b, second, true);
      expect(firstDifferentByte(second, first)).toBe(-1);
    });
  }

  it('sums float32 products in float32 arithmetic, as sgemm does, and mixed dtypes in doubles', () => {
    // 1 + 2^-25 + 2^-25 + 2^-25, summed in order: each partial sum rounds back to 1 in
    // float32 (2^-25 is a quarter of float32's ulp at 1), so float32 arithmetic gives 1.
    // Doubles hold the exact 1 + 3·2^-25, which rounds once to 1 + 2^-23 when a float64 C
    // is given the sum.
    const tiny = 2 ** -25;
    const a = new Float32Array([1, tiny, tiny, tiny]);
    const b = new Float32Array([1, 1, 1, 1]);
    const single = new Float32Array(1);
    gemm(false, false, 1, 1, 4, a, b, single, false);
    expect(single[0]).toBe(1);
    const double = new Float64Array(1);
    gemm(false, false, 1, 1, 4, a, b, double, false);
    expect(double[0]).toBe(1 + 3 * tiny);
  });

  it('rejects buffers shorter than the shape needs', () => {
    const small = new Float64Array(5);
    expect(() => gemm(false, false, 2, 3, 4, small, new Float64Array(12), new Float64Array(6), false)).toThrow(/A has 5 \(needs 8\)/);
    expect(() => gemm(false, false, -1, 3, 4, small, small, small, false)).toThrow(/m must be a non-negative integer/);
  });
});
