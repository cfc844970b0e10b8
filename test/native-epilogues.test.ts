// The native products with an epilogue (native/dlt_native.c: gemmBias, gemmReluGrad) apply
// it to each part of a product as soon as the part is computed, on the thread that
// computed it. The result must be the bits of the plain product followed by the
// elementwise kernels, whichever cut the product gets: whole, by rows, by columns, along
// k, or k = 0, on one, two and three threads.
import { afterAll, describe, expect, it } from 'vitest';
import { nativeKernels, nativeStatus } from '../src/tensor/native.js';
import { Rng } from '../src/util/rng.js';
import { expectBitIdentical, type FloatCtor, randomNormals } from './support/bits.js';

const status = nativeStatus();
const skipReason = status.loaded ? '' : ` (skipped: native backend ${status.reason})`;

// [m, n, k, transA, transB, how two threads cut it with OpenBLAS]
const SHAPES: [number, number, number, boolean, boolean, string][] = [
  [4, 5, 6, false, true, 'whole'],
  [65, 129, 67, false, true, 'by rows'],
  [64, 256, 128, false, false, 'by rows'],
  [16, 100, 700, false, false, 'by columns'],
  [64, 256, 784, false, true, 'by columns'],
  [20, 25, 4609, true, false, 'along k'],
  [3, 4, 0, false, false, 'k = 0'],
];

describe.skipIf(!status.loaded)(`native products with an epilogue give the bits of the product, then the elementwise kernels${skipReason}`, () => {
  const addon = status.loaded ? status.addon : undefined;
  afterAll(() => {
    if (addon) nativeKernels(addon, 1);
  });

  for (const threads of [1, 2, 3])
    for (const [dtype, Type] of [
      ['float32', Float32Array],
      ['float64', Float64Array],
    ] as [string, FloatCtor][])
      it(`${dtype}, ${threads} thread(s)`, () => {
        const kernels = nativeKernels(addon!, threads);
        const rng = Rng.derive(41, `epilogues-${dtype}-${threads}`);
        for (const [m, n, k, transA, transB, cut] of SHAPES) {
          const what = `${m}×${n}×${k} (${cut})`;
          const a = randomNormals(Type, m * k, rng);
          const b = randomNormals(Type, k * n, rng);
          const bias = randomNormals(Type, n, rng);
          for (const rectify of [false, true]) {
            const want = new Type(m * n);
            kernels.gemm(transA, transB, m, n, k, a, b, want, false);
            kernels.addBias(want, bias, m, n);
            if (rectify) kernels.relu(want, want, m * n);
            const got = randomNormals(Type, m * n, rng); // stale contents must be overwritten
            kernels.gemmBias(transA, transB, m, n, k, a, b, got, bias, rectify);
            expectBitIdentical(got, want, `gemmBias ${what}, relu ${rectify}`);
          }
          // A ReLU's output: zeros (of both signs), positives, and a NaN, which masks like a zero.
          const y = randomNormals(Type, m * n, rng).map((v, i) => (i % 5 === 0 ? 0 : i % 7 === 0 ? -0 : Math.max(v, 0)));
          if (y.length > 3) y[3] = Number.NaN;
          const want = new Type(m * n);
          kernels.gemm(transA, transB, m, n, k, a, b, want, false);
          kernels.reluGrad(y, want, want, m * n);
          const got = randomNormals(Type, m * n, rng);
          kernels.gemmReluGrad(transA, transB, m, n, k, a, b, got, y);
          expectBitIdentical(got, want, `gemmReluGrad ${what}`);
          expect(
            got.some((v) => v !== 0),
            `${what}: some gradient passes`,
          ).toBe(m * n > 0 && k > 0);
        }
      });

  it('wrong epilogue arrays are a RangeError', () => {
    const kernels = nativeKernels(addon!, 1);
    const [a, b, c] = [new Float32Array(6), new Float32Array(6), new Float32Array(4)];
    expect(() => kernels.gemmBias(false, false, 2, 2, 3, a, b, c, new Float32Array(1), true)).toThrow('gemmBias: bias has fewer than 2 entries');
    expect(() => kernels.gemmBias(false, false, 2, 2, 3, a, b, c, new Float64Array(2), true)).toThrow(RangeError);
    expect(() => kernels.gemmReluGrad(false, false, 2, 2, 3, a, b, c, new Float32Array(3))).toThrow('gemmReluGrad: y has fewer than 4 entries');
    expect(() => kernels.gemmReluGrad(false, false, 2, 2, 3, a, b, new Float32Array(3), new Float32Array(4))).toThrow(
      'gemmReluGrad: an array is shorter than its matrix',
    );
  });
});
