// With two threads the native addon shares its loops around the matrix products with a
// helper thread (native/work_pool.c), chunk by chunk. Each output is still computed by
// one thread in the JavaScript kernel's order, so the bits must not change: every
// shared kernel, on inputs big enough to be split, against the JavaScript kernel.
// With OpenBLAS, the products themselves are cut in two, by rows or columns of C or along
// k (native/dlt_native.c, gemm): each part must be the product a single thread computes
// for that part alone, whichever thread took it.
import { afterAll, describe, expect, it } from 'vitest';
import { jsKernels, type Kernels } from '../src/tensor/kernels.js';
import { nativeKernels, nativeStatus } from '../src/tensor/native.js';
import type { FloatArray } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';
import { expectBitIdentical, type FloatCtor, randomNormals } from './support/bits.js';

const status = nativeStatus();
const skipReason = status.loaded ? '' : ` (skipped: native backend ${status.reason})`;

describe.skipIf(!status.loaded)(`native kernels on two threads give the JavaScript kernels' bits${skipReason}`, () => {
  const addon = status.loaded ? status.addon : undefined;
  const native: Kernels | undefined = addon ? nativeKernels(addon, 2) : undefined;
  afterAll(() => {
    if (addon) nativeKernels(addon, 1);
  });

  for (const [dtype, Type] of [
    ['float32', Float32Array],
    ['float64', Float64Array],
  ] as [string, FloatCtor][]) {
    it(`${dtype}: optimiser updates, weight decay and ReLU over 200,003 elements`, () => {
      const rng = Rng.derive(29, `threads-${dtype}`);
      const n = 200_003; // 13 chunks, the last one short
      const w = randomNormals(Type, n, rng);
      const g = randomNormals(Type, n, rng);
      const m = randomNormals(Type, n, rng);
      const v = randomNormals(Type, n, rng).map(Math.abs);
      const js = [w, g, m, v].map((a) => a.slice());
      const nat = [w, g, m, v].map((a) => a.slice());
      jsKernels.weightDecayGrad(js[0]!, js[1]!, 5e-4, 1e-4);
      native!.weightDecayGrad(nat[0]!, nat[1]!, 5e-4, 1e-4);
      // The optimisers pass every parameter at once: here the array as three parameters of
      // uneven lengths, so that chunks straddle the joins.
      const cuts = [0, 7, 70_001, n];
      const parts = (a: FloatArray) => cuts.slice(1).map((end, i) => a.subarray(cuts[i]!, end));
      const j = js.map(parts);
      const t = nat.map(parts);
      jsKernels.sgdMomentumSteps(j[0]!, j[1]!, j[2]!, 0.05, 0.9, true);
      native!.sgdMomentumSteps(t[0]!, t[1]!, t[2]!, 0.05, 0.9, true);
      jsKernels.adamSteps(j[0]!, j[1]!, j[2]!, j[3]!, 1e-3, 0.9, 0.999, 0.03, 1e-8);
      native!.adamSteps(t[0]!, t[1]!, t[2]!, t[3]!, 1e-3, 0.9, 0.999, 0.03, 1e-8);
      for (const [i, name] of ['w', 'g', 'm', 'v'].entries()) expectBitIdentical(nat[i]!, js[i]!, name);
      const yJs = new Type(n);
      const yNative = new Type(n);
      jsKernels.relu(w, yJs, n);
      native!.relu(w, yNative, n);
      expectBitIdentical(yNative, yJs, 'relu');
      jsKernels.reluGrad(yJs, g, yJs, n);
      native!.reluGrad(yNative, g, yNative, n);
      expectBitIdentical(yNative, yJs, 'reluGrad');
    });

    it(`${dtype}: a batch of 200 byte rows, max pooling, im2col, col2im and the conv bias passes of a 64-sample batch`, () => {
      const rng = Rng.derive(31, `threads-spatial-${dtype}`);
      const features = 784;
      const src = new Uint8Array(1000 * features);
      for (let i = 0; i < src.length; i++) src[i] = rng.nextInt(256);
      const table = Float64Array.from({ length: 256 }, (_, b) => (b - 0.3) / 255.7);
      const rows = Int32Array.from({ length: 200 }, () => rng.nextInt(1000));
      const batchJs = new Type(200 * features);
      const batchNative = new Type(200 * features);
      jsKernels.gatherBytes(batchJs, src, rows, 200, features, table);
      native!.gatherBytes(batchNative, src, rows, 200, features, table);
      expectBitIdentical(batchNative, batchJs, 'gatherBytes');

      const [n, C, H, W, F, k, s, p] = [64, 3, 14, 14, 5, 3, 1, 1];
      const x = randomNormals(Type, n * C * H * W, rng);
      const [outH, outW] = [H, W];
      const P = outH * outW;
      const poolJs = new Type((n * C * H * W) / 4);
      const poolNative = new Type(poolJs.length);
      const argJs = new Int32Array(poolJs.length);
      const argNative = new Int32Array(poolJs.length);
      jsKernels.maxPool(x, poolJs, argJs, n * C, H, W, 2, 2, H / 2, W / 2);
      native!.maxPool(x, poolNative, argNative, n * C, H, W, 2, 2, H / 2, W / 2);
      expectBitIdentical(poolNative, poolJs, 'maxPool');
      expectBitIdentical(argNative, argJs, 'maxPool argmax');

      const colsJs = new Type(C * k * k * n * P);
      const colsNative = new Type(colsJs.length);
      jsKernels.im2col(colsJs, x, n, C, H, W, k, s, p, outH, outW);
      native!.im2col(colsNative, x, n, C, H, W, k, s, p, outH, outW);
      expectBitIdentical(colsNative, colsJs, 'im2col');
      const dcols = randomNormals(Type, colsJs.length, rng);
      const dxJs = randomNormals(Type, x.length, rng); // stale contents must be overwritten
      const dxNative = dxJs.slice();
      jsKernels.col2im(dxJs, dcols, n, C, H, W, k, s, p, outH, outW);
      native!.col2im(dxNative, dcols, n, C, H, W, k, s, p, outH, outW);
      expectBitIdentical(dxNative, dxJs, 'col2im');

      const wm = randomNormals(Type, F * n * P, rng);
      const b = randomNormals(Type, F, rng);
      const yJs = new Type(F * n * P);
      const yNative = new Type(F * n * P);
      jsKernels.addBiasSampleMajor(yJs, wm, b, F, n, P);
      native!.addBiasSampleMajor(yNative, wm, b, F, n, P);
      expectBitIdentical(yNative, yJs, 'addBiasSampleMajor');
      const dbJs = randomNormals(Type, F, rng);
      const dbNative = dbJs.slice();
      jsKernels.filterMajorBiasGrad(yJs, wm, dbJs, F, n, P);
      native!.filterMajorBiasGrad(yNative, wm, dbNative, F, n, P);
      expectBitIdentical(yNative, yJs, 'filterMajorBiasGrad dY');
      expectBitIdentical(dbNative, dbJs, 'filterMajorBiasGrad db');
    });
  }

  /** C = op(A)·op(B) on one thread, into a fresh [m×n] array. */
  function product(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Float32Array {
    const c = new Float32Array(m * n);
    nativeKernels(addon!, 1).gemm(transA, transB, m, n, k, a, b, c, false);
    nativeKernels(addon!, 2);
    return c;
  }

  // Cut by rows: 65×129×67 (C is less than four times wider than tall), A·Bᵀ; the parts are 33 and 32 rows.
  // Cut by columns: 9×301×400 (C is 33 times wider than tall), A·Bᵀ; the parts are 151 and 150 columns.
  // Cut along k: 20×25×4609 (a small result over a long k), Aᵀ·B; the parts are 2,305 and 2,304 long,
  // the second added to the first.
  const openblas = addon?.info().blas === 'openblas';
  it.skipIf(!openblas)('float32 products are cut in two, each part the one-thread product of its share, shared with the helper', () => {
    const rng = Rng.derive(37, 'threads-gemm');
    for (const [m, n, k, cut] of [
      [65, 129, 67, 'rows'],
      [9, 301, 400, 'columns'],
      [20, 25, 4609, 'depth'],
    ] as [number, number, number, 'rows' | 'columns' | 'depth'][]) {
      // A·Bᵀ with A [m×k] and B [n×k], or for the cut along k Aᵀ·B with A [k×m] and B [k×n]:
      // either way each part's operands are contiguous stretches of A and B.
      const [transA, transB] = cut === 'depth' ? [true, false] : [false, true];
      const a = randomNormals(Float32Array, m * k, rng) as Float32Array;
      const b = randomNormals(Float32Array, n * k, rng) as Float32Array;
      const before = addon!.helperChunks();
      const first = new Float32Array(m * n);
      native!.gemm(transA, transB, m, n, k, a, b, first, false);
      // Until the helper has computed a part (it may be slow to get a core while other test
      // files run), and at least 20 times.
      const deadline = performance.now() + 5000;
      for (let r = 0; r < 20 || (addon!.helperChunks() === before && performance.now() < deadline); r++) {
        const again = new Float32Array(m * n).fill(r); // stale contents must be overwritten
        native!.gemm(transA, transB, m, n, k, a, b, again, false);
        expectBitIdentical(again, first, `${m}×${n}×${k}, call ${r + 2} against the first`);
      }
      expect(addon!.helperChunks(), `${m}×${n}×${k}: the helper computed a part`).toBeGreaterThan(before);
      const want = new Float32Array(m * n);
      if (cut === 'rows') {
        const h = Math.ceil(m / 2);
        want.set(product(false, true, h, n, k, a.subarray(0, h * k), b), 0);
        want.set(product(false, true, m - h, n, k, a.subarray(h * k), b), h * n);
      } else if (cut === 'columns') {
        const h = Math.ceil(n / 2);
        for (const [lo, hi] of [
          [0, h],
          [h, n],
        ] as [number, number][]) {
          const part = product(false, true, m, hi - lo, k, a, b.subarray(lo * k, hi * k));
          for (let i = 0; i < m; i++) want.set(part.subarray(i * (hi - lo), (i + 1) * (hi - lo)), i * n + lo);
        }
      } else {
        const h = Math.ceil(k / 2);
        const head = product(true, false, m, n, h, a.subarray(0, h * m), b.subarray(0, h * n));
        const tail = product(true, false, m, n, k - h, a.subarray(h * m), b.subarray(h * n));
        for (let i = 0; i < m * n; i++) want[i] = head[i]! + tail[i]!; // rounded to float32 as stored
      }
      expectBitIdentical(first, want, `${m}×${n}×${k}: the two parts`);
    }
  });

  it('the helper thread did take part, and takes none with one thread', () => {
    const before = addon!.helperChunks();
    const big = new Float32Array(4_000_000).map((_, i) => (i % 7) - 3);
    const y = new Float32Array(big.length);
    for (let r = 0; r < 20; r++) native!.relu(big, y, big.length); // 245 chunks a call
    expect(addon!.helperChunks()).toBeGreaterThan(before);
    const one = nativeKernels(addon!, 1);
    const during = addon!.helperChunks();
    for (let r = 0; r < 5; r++) one.relu(big, y, big.length);
    expect(addon!.helperChunks()).toBe(during);
  });
});
