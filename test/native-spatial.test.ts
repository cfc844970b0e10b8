// The native backend's loops around the matrix multiply (im2col, col2im, the conv bias
// reorderings, max pooling, weight decay, ReLU, the dense bias and its gradient,
// assembling a batch from bytes) against
// the JavaScript kernels they replace.
// They do the same arithmetic in the same order, so the results must agree to the bit,
// for both dtypes and for every padding/stride combination conv2d and pooling allow.
import { describe, expect, it } from 'vitest';
import { jsKernels, type Kernels } from '../src/tensor/kernels.js';
import { nativeKernels, nativeStatus } from '../src/tensor/native.js';
import { Rng } from '../src/util/rng.js';
import { expectBitIdentical, type FloatCtor, randomNormals } from './support/bits.js';

const status = nativeStatus();
const native: Kernels | undefined = status.loaded ? nativeKernels(status.addon, 1) : undefined;
const skipReason = status.loaded ? '' : ` (skipped: native backend ${status.reason})`;

const DTYPES: [string, FloatCtor][] = [
  ['float32', Float32Array],
  ['float64', Float64Array],
];

// [C, H, W, k, stride, pad]: the shapes of issue 6's gradient checks and LeNet's.
const CONV_SHAPES: [number, number, number, number, number, number][] = [
  [1, 28, 28, 5, 1, 0],
  [3, 7, 9, 3, 1, 1],
  [3, 8, 8, 3, 2, 1],
  [8, 6, 5, 5, 2, 2],
  [2, 5, 5, 1, 1, 0],
  [2, 9, 7, 3, 2, 0],
  [1, 4, 4, 5, 1, 2],
  [2, 6, 6, 1, 2, 0],
];

describe.skipIf(!native)(`native spatial kernels match the JavaScript ones bit for bit${skipReason}`, () => {
  for (const [dtype, Type] of DTYPES) {
    for (const [C, H, W, k, s, p] of CONV_SHAPES) {
      it(`${dtype} im2col and col2im, C=${C} ${H}×${W} k=${k} stride ${s} pad ${p}`, () => {
        const rng = Rng.derive(C * 1000 + H * 10 + k, 'native-spatial');
        const n = 3;
        const outH = Math.floor((H + 2 * p - k) / s) + 1;
        const outW = Math.floor((W + 2 * p - k) / s) + 1;
        const x = randomNormals(Type, n * C * H * W, rng);
        const colsLength = C * k * k * n * outH * outW;
        // Stale contents in the output buffers must not leak into the result.
        const colsJs = randomNormals(Type, colsLength, rng);
        const colsNative = colsJs.slice();
        jsKernels.im2col(colsJs, x, n, C, H, W, k, s, p, outH, outW);
        native!.im2col(colsNative, x, n, C, H, W, k, s, p, outH, outW);
        expectBitIdentical(colsNative, colsJs);

        const dcols = randomNormals(Type, colsLength, rng);
        const dxJs = randomNormals(Type, n * C * H * W, rng);
        const dxNative = dxJs.slice();
        jsKernels.col2im(dxJs, dcols, n, C, H, W, k, s, p, outH, outW);
        native!.col2im(dxNative, dcols, n, C, H, W, k, s, p, outH, outW);
        expectBitIdentical(dxNative, dxJs);
      });
    }

    it(`${dtype} conv bias reorderings`, () => {
      const rng = Rng.derive(7, 'native-bias');
      const [F, n, P] = [5, 3, 37];
      const wm = randomNormals(Type, F * n * P, rng);
      const b = randomNormals(Type, F, rng);
      const yJs = new Type(F * n * P);
      const yNative = new Type(F * n * P);
      jsKernels.addBiasSampleMajor(yJs, wm, b, F, n, P);
      native!.addBiasSampleMajor(yNative, wm, b, F, n, P);
      expectBitIdentical(yNative, yJs);

      const dy = randomNormals(Type, F * n * P, rng);
      const dbJs = randomNormals(Type, F, rng);
      const dbNative = dbJs.slice();
      const dYJs = new Type(F * n * P);
      const dYNative = new Type(F * n * P);
      jsKernels.filterMajorBiasGrad(dYJs, dy, dbJs, F, n, P);
      native!.filterMajorBiasGrad(dYNative, dy, dbNative, F, n, P);
      expectBitIdentical(dYNative, dYJs);
      expectBitIdentical(dbNative, dbJs);
    });

    // [planes, H, W, size, stride]: overlapping, tiling with a ragged edge, and a 1×1 window;
    // then 2×2 windows with stride 2 over rows of even width, which the addon computes in
    // two passes (native/dlt_native.c, max_pool_2x2): with an unused last row, in two
    // blocks of rows, and too wide for its buffer.
    for (const [planes, H, W, size, stride] of [
      [6, 9, 8, 3, 2],
      [5, 28, 27, 2, 2],
      [3, 7, 11, 3, 1],
      [2, 4, 5, 1, 1],
      [5, 9, 10, 2, 2],
      [2, 70, 80, 2, 2],
      [1, 4, 2050, 2, 2],
    ] as const) {
      it(`${dtype} max pooling of ${planes} ${H}×${W} maps, window ${size} stride ${stride}, with ties, signed zeros and NaN`, () => {
        const rng = Rng.derive(11 + H, 'native-pool');
        const x = randomNormals(Type, planes * H * W, rng);
        for (let i = 0; i < x.length; i += 7) x[i] = x[i + 1] ?? 0; // ties along a row
        for (let i = 3; i + W < x.length; i += 11) x[i + W] = x[i]!; // and down a column
        for (let i = 5; i + W + 1 < x.length; i += 13) {
          // a window of zeros, one of them negative: which one wins shows in the bits
          x[i] = 0;
          x[i + 1] = -0;
          x[i + W] = -0;
          x[i + W + 1] = 0;
        }
        x[20] = NaN;
        x[43] = NaN;
        const outH = Math.floor((H - size) / stride) + 1;
        const outW = Math.floor((W - size) / stride) + 1;
        const count = planes * outH * outW;
        // Stale entries past the outputs must stay as they were.
        const yJs = randomNormals(Type, count + 5, rng);
        const yNative = yJs.slice();
        const argmaxJs = new Int32Array(count + 5).fill(-7);
        const argmaxNative = argmaxJs.slice();
        jsKernels.maxPool(x, yJs, argmaxJs, planes, H, W, size, stride, outH, outW);
        native!.maxPool(x, yNative, argmaxNative, planes, H, W, size, stride, outH, outW);
        expectBitIdentical(yNative, yJs);
        expect(Array.from(argmaxNative)).toEqual(Array.from(argmaxJs));
        expect(yNative.some((v) => Number.isNaN(v))).toBe(true);
        expect(argmaxNative[count]).toBe(-7);
        // The JavaScript kernel against the definition, window by window.
        for (let o = 0; o < count; o++) {
          const plane = Math.floor(o / (outH * outW));
          const oy = Math.floor(o / outW) % outH;
          const ox = o % outW;
          let best = -Infinity;
          let at = -1;
          for (let i = 0; i < size; i++) {
            for (let j = 0; j < size; j++) {
              const k = (plane * H + oy * stride + i) * W + ox * stride + j;
              const v = x[k]!;
              if (at < 0 || v > best || (Number.isNaN(v) && !Number.isNaN(best))) [best, at] = [v, k];
            }
          }
          expect(argmaxJs[o], `window ${o}`).toBe(at);
        }
      });
    }

    it(`${dtype} weight decay gradient`, () => {
      const rng = Rng.derive(13, 'native-decay');
      const w = randomNormals(Type, 1001, rng);
      w[3] = 0;
      const gJs = randomNormals(Type, 1001, rng);
      const gNative = gJs.slice();
      jsKernels.weightDecayGrad(w, gJs, 2 * 2.5e-4, 1e-3);
      native!.weightDecayGrad(w, gNative, 2 * 2.5e-4, 1e-3);
      expectBitIdentical(gNative, gJs);
    });
  }

  for (const [dtype, Type] of DTYPES) {
    it(`${dtype} ReLU and its gradient, with zeros, NaN and infinities`, () => {
      const rng = Rng.derive(17, 'native-relu');
      const x = randomNormals(Type, 1003, rng);
      x.set([0, -0, NaN, Infinity, -Infinity], 10);
      const count = 1000; // entries past count must keep their stale contents
      const yJs = randomNormals(Type, 1003, rng);
      const yNative = yJs.slice();
      jsKernels.relu(x, yJs, count);
      native!.relu(x, yNative, count);
      expectBitIdentical(yNative, yJs);
      expect(Array.from(yNative.subarray(10, 15))).toEqual([0, 0, 0, Infinity, 0]);
      const dy = randomNormals(Type, 1003, rng);
      const dxJs = randomNormals(Type, 1003, rng);
      const dxNative = dxJs.slice();
      jsKernels.reluGrad(yJs, dy, dxJs, count);
      native!.reluGrad(yNative, dy, dxNative, count);
      expectBitIdentical(dxNative, dxJs);
      expect(dxNative[13]).toBe(dy[13]);
      expect(dxNative[12]).toBe(0);
    });

    it(`${dtype} dense bias and its gradient: rows past n untouched, sums in order`, () => {
      const rng = Rng.derive(23, 'native-bias');
      const width = 37; // not a multiple of any vector width
      const n = 5;
      const b = randomNormals(Type, width, rng);
      const yJs = randomNormals(Type, (n + 2) * width, rng); // rows n, n+1 are stale and must stay so
      const yNative = yJs.slice();
      const stale = yJs.slice(n * width);
      jsKernels.addBias(yJs, b, n, width);
      native!.addBias(yNative, b, n, width);
      expectBitIdentical(yNative, yJs);
      expectBitIdentical(yNative.slice(n * width), stale);
      expect(yNative[2 * width + 3]).not.toBe(stale[0]);
      // Large and small values together, so that the order of the sums shows in the bits.
      const dy = randomNormals(Type, (n + 2) * width, rng).map((v, i) => (i % 3 === 0 ? v * 1e7 : v));
      const dbJs = randomNormals(Type, width, rng);
      const dbNative = dbJs.slice();
      jsKernels.biasGrad(dbJs, dy, n, width);
      native!.biasGrad(dbNative, dy, n, width);
      expectBitIdentical(dbNative, dbJs);
    });

    it(`${dtype} assembling a batch from byte rows through a table`, () => {
      const rng = Rng.derive(19, 'native-gather');
      const features = 37;
      const src = new Uint8Array(10 * features);
      for (let i = 0; i < src.length; i++) src[i] = rng.nextInt(256);
      const table = new Float64Array(256);
      for (let b = 0; b < 256; b++) table[b] = (b - 0.3) / 255.7;
      const rows = Int32Array.of(3, 0, 9, 3, 7);
      const n = 4; // rows[4] is not part of the batch
      const dstJs = randomNormals(Type, 5 * features, rng);
      const dstNative = dstJs.slice();
      jsKernels.gatherBytes(dstJs, src, rows, n, features, table);
      native!.gatherBytes(dstNative, src, rows, n, features, table);
      expectBitIdentical(dstNative, dstJs);
      expect(dstNative[2 * features + 5]).toBe(Type.of(table[src[9 * features + 5]!]!)[0]);
      // A row with every byte value, so that every entry of the table is looked up.
      const everyByte = Uint8Array.from({ length: 263 }, (_, i) => (i < 256 ? (i * 77) % 256 : i));
      table[0] = -0;
      const allJs = new Type(263);
      const allNative = new Type(263);
      jsKernels.gatherBytes(allJs, everyByte, Int32Array.of(0), 1, 263, table);
      native!.gatherBytes(allNative, everyByte, Int32Array.of(0), 1, 263, table);
      expectBitIdentical(allNative, allJs);
      expect(new Set(allNative).size).toBe(256);
    });
  }

  it('rejects a batch row outside the byte matrix, a short table and a count past the arrays', () => {
    const src = new Uint8Array(12);
    const dst = new Float32Array(8);
    const table = new Float64Array(256);
    expect(() => native!.gatherBytes(dst, src, Int32Array.of(0, 3), 2, 4, table)).toThrow(RangeError);
    expect(() => native!.gatherBytes(dst, src, Int32Array.of(0, -1), 2, 4, table)).toThrow(RangeError);
    expect(() => native!.gatherBytes(dst, src, Int32Array.of(0, 2), 2, 4, new Float64Array(255))).toThrow(RangeError);
    expect(() => native!.gatherBytes(dst, src, Int32Array.of(0), 2, 4, table)).toThrow(RangeError);
    expect(() => native!.relu(new Float32Array(4), new Float32Array(3), 4)).toThrow(RangeError);
    expect(() => native!.reluGrad(new Float32Array(4), new Float32Array(4), new Float64Array(4), 4)).toThrow(RangeError);
    expect(() => native!.addBias(new Float32Array(11), new Float32Array(4), 3, 4)).toThrow(RangeError);
    expect(() => native!.biasGrad(new Float32Array(3), new Float32Array(12), 3, 4)).toThrow(RangeError);
    expect(() => native!.biasGrad(new Float32Array(4), new Float64Array(12), 3, 4)).toThrow(RangeError);
  });

  it('rejects a pooling window that reaches outside x, instead of reading past it', () => {
    const x = new Float32Array(16);
    expect(() => native!.maxPool(x, new Float32Array(4), new Int32Array(4), 1, 4, 4, 2, 2, 3, 2)).toThrow(RangeError);
    expect(() => native!.maxPool(x, new Float32Array(4), new Int32Array(4), 2, 4, 4, 2, 2, 2, 2)).toThrow(RangeError);
    expect(() => native!.maxPool(x, new Float32Array(4), new Int32Array(3), 1, 4, 4, 2, 2, 2, 2)).toThrow(RangeError);
    expect(() => native!.maxPool(x, new Float32Array(4), new Int32Array(4), 1, 4, 4, 2, 2, 2, 2)).not.toThrow();
  });

  it('rejects an im2col whose arrays are shorter than the shapes', () => {
    expect(() => native!.im2col(new Float32Array(10), new Float32Array(16), 1, 1, 4, 4, 3, 1, 0, 2, 2)).toThrow(RangeError);
  });
});
