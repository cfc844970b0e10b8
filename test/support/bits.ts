import { expect } from 'vitest';
import type { FloatArray } from '../../src/tensor/types.js';
import type { Rng } from '../../src/util/rng.js';

/** The two float array types the kernels take. */
export type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;

/** `length` draws of the standard normal from `rng`, in an array of `Type`. */
export function randomNormals(Type: FloatCtor, length: number, rng: Rng): FloatArray {
  const a = new Type(length);
  for (let i = 0; i < length; i++) a[i] = rng.normal();
  return a;
}

/** The same bits, entry by entry (so −0 ≠ 0, and NaN = NaN); `what` names the arrays when they differ. */
export function expectBitIdentical(actual: FloatArray | Int32Array, expected: FloatArray | Int32Array, what = 'arrays'): void {
  const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
  expect(a.length, `${what}: bytes`).toBe(e.length);
  expect(
    a.findIndex((byte, i) => byte !== e[i]),
    `${what}: first differing byte`,
  ).toBe(-1);
}
