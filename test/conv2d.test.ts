import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { layerSpec, modelConfigSchema } from '../src/config/schema.js';
import { InputError } from '../src/errors.js';
import { type GradcheckReport, gradcheck, KINKED_THRESHOLD, SMOOTH_THRESHOLD } from '../src/gradcheck/gradcheck.js';
import { Conv2d } from '../src/layers/conv2d.js';
import type { LayerContext } from '../src/layers/layer.js';
import { createLayer } from '../src/layers/registry.js';
import { buildModel } from '../src/model/build.js';
import { Regularizer } from '../src/optim/regularization.js';
import { jsKernels } from '../src/tensor/kernels.js';
import type { DType, FloatArray } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import { inputErrorOf, networkOf } from './support/layers.js';

const tmp = tempDir('dlt-conv-');
afterAll(() => tmp.cleanup());

function ctx(inputShape: number[], dtype: DType = 'float64', name = 'conv2d_1'): LayerContext {
  return { name, inputShape, dtype, kernels: jsKernels, rng: Rng.derive(1, 'init'), noise: Rng.derive(1, 'dropout') };
}

type Padding = 'valid' | 'same' | number;

/** The textbook definition, one output at a time in float64: no im2col, no GEMM. */
function directConv(
  x: Float64Array,
  n: number,
  [C, H, W]: number[],
  w: FloatArray,
  b: FloatArray,
  F: number,
  k: number,
  s: number,
  p: number,
): { y: Float64Array; outH: number; outW: number } {
  const outH = Math.floor((H! + 2 * p - k) / s) + 1;
  const outW = Math.floor((W! + 2 * p - k) / s) + 1;
  const y = new Float64Array(n * F * outH * outW);
  for (let i = 0; i < n; i++)
    for (let f = 0; f < F; f++)
      for (let oy = 0; oy < outH; oy++)
        for (let ox = 0; ox < outW; ox++) {
          let sum = b[f]!;
          for (let c = 0; c < C!; c++)
            for (let u = 0; u < k; u++)
              for (let v = 0; v < k; v++) {
                const iy = oy * s - p + u;
                const ix = ox * s - p + v;
                if (iy < 0 || iy >= H! || ix < 0 || ix >= W!) continue;
                sum += w[((f * C! + c) * k + u) * k + v]! * x[((i * C! + c) * H! + iy) * W! + ix]!;
              }
          y[((i * F + f) * outH + oy) * outW + ox] = sum;
        }
  return { y, outH, outW };
}

const randomArray = (length: number, rng: Rng) => Float64Array.from({ length }, () => rng.normal());

const STRIDES = [1, 2];
const PADDINGS: Padding[] = ['valid', 'same', 2];
const CHANNELS = [1, 3, 8];
const KERNELS = [1, 3, 5];
const padOf = (padding: Padding, k: number) => (padding === 'valid' ? 0 : padding === 'same' ? (k - 1) / 2 : padding);

/** Every combination the schema accepts ("same" needs stride 1) on a 7×8 input. */
const combinations = STRIDES.flatMap((stride) =>
  PADDINGS.flatMap((padding) => CHANNELS.flatMap((channels) => KERNELS.map((kernel) => ({ stride, padding, channels, kernel })))),
).filter((c) => !(c.padding === 'same' && c.stride !== 1));

describe('conv2d forward equals the direct convolution', () => {
  it('covers 42 combinations of stride, padding, channels and kernel', () => {
    expect(combinations).toHaveLength(2 * 3 * 3 * 3 - 9);
  });

  for (const { stride, padding, channels, kernel } of combinations) {
    it(`C=${channels}, k=${kernel}, stride ${stride}, padding ${padding}`, () => {
      const shape = [channels, 7, 8];
      const F = 4;
      const spec = layerSpec.parse({ type: 'conv2d', filters: F, kernel, stride, padding });
      const layer = createLayer(spec, ctx(shape));
      const [weight, bias] = layer.params;
      const rng = Rng.derive(kernel * 100 + channels * 10 + stride, 'conv-test');
      weight!.value.set(randomArray(weight!.value.length, rng));
      bias!.value.set(randomArray(F, rng)); // nonzero biases, so a lost bias shows
      const n = 2;
      const x = randomArray(n * channels * 56, rng);
      const want = directConv(x, n, shape, weight!.value, bias!.value, F, kernel, stride, padOf(padding, kernel));
      expect(layer.outputShape).toEqual([F, want.outH, want.outW]);
      if (padding === 'same') expect(layer.outputShape).toEqual([F, 7, 8]);
      const y = layer.forward(x, n, true);
      for (let i = 0; i < want.y.length; i++) expect(Math.abs(y[i]! - want.y[i]!), `entry ${i}`).toBeLessThan(1e-12);
    });
  }

  it('float32 agrees with the float64 reference to float32 precision, and a smaller batch reuses the buffers', () => {
    const shape = [3, 8, 7];
    const layer = new Conv2d(
      { filters: 5, kernel: 3, stride: 2, padding: 1, init: { type: 'kaiming' }, bias_init: { type: 'constant', value: 0.5 } },
      ctx(shape, 'float32'),
    );
    const [weight, bias] = layer.params;
    expect(Array.from(bias!.value)).toEqual([0.5, 0.5, 0.5, 0.5, 0.5]);
    const rng = Rng.derive(3, 'conv-test');
    for (const n of [3, 1]) {
      const x64 = randomArray(n * 3 * 56, rng);
      const y = layer.forward(Float32Array.from(x64), n, true);
      const want = directConv(Float64Array.from(Float32Array.from(x64)), n, shape, weight!.value, bias!.value, 5, 3, 2, 1);
      for (let i = 0; i < want.y.length; i++) expect(y[i]).toBeCloseTo(want.y[i]!, 5);
    }
  });

  it('is a cross-correlation (the kernel is not flipped), as PyTorch', () => {
    // One 1×3×3 input, one 2×2 filter picking the top-left cell of each window.
    const layer = new Conv2d(
      { filters: 1, kernel: 2, stride: 1, padding: 'valid', init: { type: 'zeros' }, bias_init: { type: 'zeros' } },
      ctx([1, 3, 3]),
    );
    layer.params[0]!.value.set([1, 0, 0, 0]);
    const y = layer.forward(Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 1, false);
    expect(Array.from(y.subarray(0, 4))).toEqual([1, 2, 4, 5]);
  });

  it('initialises with fan_in = C·k·k (kaiming: variance 2/fan_in)', () => {
    const layer = new Conv2d(
      { filters: 64, kernel: 5, stride: 1, padding: 'same', init: { type: 'kaiming' }, bias_init: { type: 'zeros' } },
      ctx([8, 6, 6]),
    );
    const w = layer.params[0]!.value;
    expect(layer.params.map((p) => [p.name, p.shape])).toEqual([
      ['weight', [64, 8, 5, 5]],
      ['bias', [64]],
    ]);
    let sq = 0;
    for (const v of w) sq += v * v;
    expect(sq / w.length).toBeGreaterThan((2 / 200) * 0.9);
    expect(sq / w.length).toBeLessThan((2 / 200) * 1.1);
  });
});

// ---------------------------------------------------------------- gradients

function check(model: Record<string, unknown>, batch = 2): GradcheckReport {
  const spec = modelConfigSchema.parse({ model });
  const built = buildModel(spec, jsKernels, 'float64');
  const regularizer = new Regularizer(spec.regularization, built.network.namedParams());
  return gradcheck({ ...built, regularizer }, { batch, seed: 3, delta: 1e-6, samples: 8 });
}
const describeReport = (r: GradcheckReport) =>
  r.tensors.map((t) => `${t.name}: ${t.maxRelError.toExponential(2)} / ${t.threshold} (${t.kinks} kinks) ${t.verdict}`).join('\n');

describe('conv2d gradients pass the gradient check', () => {
  // A subset that takes every option value at least once, each with a dense head.
  const gradCases = [
    { channels: 1, kernel: 3, stride: 1, padding: 'valid' as Padding },
    { channels: 3, kernel: 5, stride: 2, padding: 2 as Padding },
    { channels: 8, kernel: 1, stride: 1, padding: 'same' as Padding },
    { channels: 3, kernel: 3, stride: 1, padding: 'same' as Padding },
    { channels: 1, kernel: 5, stride: 1, padding: 2 as Padding },
    { channels: 8, kernel: 3, stride: 2, padding: 'valid' as Padding },
    { channels: 3, kernel: 1, stride: 2, padding: 2 as Padding },
  ];
  for (const { channels, kernel, stride, padding } of gradCases) {
    it(`C=${channels}, k=${kernel}, stride ${stride}, padding ${padding}: smooth, below 1e-7`, () => {
      const r = check({
        input: [channels, 7, 6],
        layers: [{ type: 'conv2d', filters: 3, kernel, stride, padding }, 'flatten', { type: 'dense', units: 4 }],
      });
      expect(r.passed, describeReport(r)).toBe(true);
      expect(r.tensors.map((t) => t.name)).toEqual([
        'input',
        'param/conv2d_1/weight',
        'param/conv2d_1/bias',
        'param/dense_1/weight',
        'param/dense_1/bias',
      ]);
      for (const t of r.tensors) {
        expect(t.threshold, t.name).toBe(SMOOTH_THRESHOLD);
        expect(t.maxRelError, `${t.name}\n${describeReport(r)}`).toBeLessThan(SMOOTH_THRESHOLD);
      }
    });
  }

  it('two convolutions, relu and max pooling: kinked below the pool, under the 1e-4 rule', () => {
    const r = check({
      input: [2, 8, 8],
      layers: [
        { type: 'conv2d', filters: 4, kernel: 3, padding: 'same' },
        'relu',
        { type: 'maxpool2d', size: 2 },
        { type: 'conv2d', filters: 3, kernel: 3, stride: 2, padding: 1 },
        'tanh',
        'flatten',
        { type: 'dense', units: 5 },
      ],
    });
    expect(r.passed, describeReport(r)).toBe(true);
    const threshold = Object.fromEntries(r.tensors.map((t) => [t.name, t.threshold]));
    expect(threshold['param/conv2d_1/weight']).toBe(KINKED_THRESHOLD);
    expect(threshold['param/conv2d_2/weight']).toBe(SMOOTH_THRESHOLD);
    expect(threshold['param/dense_1/weight']).toBe(SMOOTH_THRESHOLD);
  });
});

// ---------------------------------------------------------------- shapes

const network = networkOf;
const thrown = inputErrorOf;

describe('conv2d shapes', () => {
  it('computes Hout = floor((H + 2p − k)/s) + 1 and flattens [F, Hout, Wout] for dense', () => {
    const net = network([1, 28, 28], [{ type: 'conv2d', filters: 4, kernel: 5, stride: 2, padding: 1 }, 'flatten', { type: 'dense', units: 10 }]);
    expect(net.layers.map((l) => l.outputShape)).toEqual([[4, 13, 13], [676], [10]]);
  });

  it('a kernel larger than the padded input is an InputError naming the layer and the shapes', () => {
    const err = thrown(() =>
      network([3, 4, 6], ['relu', { type: 'conv2d', filters: 2, kernel: 7, padding: 1 }, 'flatten', { type: 'dense', units: 2 }]),
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toBe(
      'model.layers.1 (conv2d_1): the 7×7 kernel (stride 1) does not fit its input [3, 4, 6] padded by 1 on each side (6×8): the output would be [2, 0, 2]; use a smaller kernel or more padding, or downsample less before this layer',
    );
  });

  it('strides that shrink the map until a later kernel no longer fits: InputError at that layer', () => {
    const err = thrown(() =>
      network(
        [1, 9, 9],
        [
          { type: 'conv2d', filters: 2, kernel: 3, stride: 3 },
          { type: 'conv2d', filters: 2, kernel: 3, stride: 2 },
          { type: 'conv2d', filters: 2, kernel: 3 },
          'flatten',
          { type: 'dense', units: 2 },
        ],
      ),
    );
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(
      /^model\.layers\.2 \(conv2d_3\): the 3×3 kernel \(stride 1\) does not fit its input \[2, 1, 1\]: the output would be \[2, -1, -1\]/,
    );
  });

  it('a vector input is an InputError: conv2d needs [C, H, W]', () => {
    const err = thrown(() => network([12], [{ type: 'conv2d', filters: 2, kernel: 1 }, 'flatten', { type: 'dense', units: 2 }]));
    expect((err as Error).message).toBe(
      'model.layers.0 (conv2d_1): conv2d needs an image [C, H, W] per sample but receives shape [12]; set model.input to [C, H, W] and put conv2d before any flatten',
    );
  });
});

describe('conv2d config', () => {
  const parse = (layer: unknown) =>
    modelConfigSchema.safeParse({ model: { input: [1, 8, 8], layers: [layer, 'flatten', { type: 'dense', units: 2 }] } });

  it('fills in every default', () => {
    expect(layerSpec.parse({ type: 'conv2d', filters: 4, kernel: 3 })).toEqual({
      type: 'conv2d',
      filters: 4,
      kernel: 3,
      stride: 1,
      padding: 'valid',
      init: { type: 'kaiming' },
      bias_init: { type: 'zeros' },
    });
  });

  it('accepts valid, same and whole numbers ≥ 0 as padding; rejects the rest', () => {
    for (const padding of ['valid', 'same', 0, 3])
      expect(parse({ type: 'conv2d', filters: 1, kernel: 3, padding }).success, String(padding)).toBe(true);
    for (const padding of ['full', -1, 1.5]) expect(parse({ type: 'conv2d', filters: 1, kernel: 3, padding }).success, String(padding)).toBe(false);
    for (const bad of [{ filters: 0 }, { kernel: 0 }, { stride: 0 }, { kernel: 2.5 }])
      expect(parse({ type: 'conv2d', filters: 1, kernel: 3, ...bad }).success, JSON.stringify(bad)).toBe(false);
  });

  it('refuses padding "same" with stride > 1 or an even kernel, saying why', () => {
    const strided = parse({ type: 'conv2d', filters: 1, kernel: 3, stride: 2, padding: 'same' });
    expect(strided.success).toBe(false);
    expect(strided.error!.issues[0]).toMatchObject({
      path: ['model', 'layers', 0, 'padding'],
      message: expect.stringContaining('"same" needs stride 1'),
    });
    const even = parse({ type: 'conv2d', filters: 1, kernel: 4, padding: 'same' });
    expect(even.error!.issues[0]!.message).toContain('"same" needs an odd kernel');
  });
});

// ---------------------------------------------------------------- the CLI

const mini = path.join(repoRoot, 'datasets', 'fashion-mnist-mini');

describe('dlt with convolutions', () => {
  it('exits 2 with line and layer for padding "same" with stride 2', () => {
    const file = tmp.write(
      'same-stride.yaml',
      'model:\n  input: [1, 8, 8]\n  layers:\n    - {type: conv2d, filters: 2, kernel: 3, stride: 2, padding: same}\n    - flatten\n    - {type: dense, units: 2}\n',
    );
    const err = expectInputError(dlt(['gradcheck', file], tmp.dir));
    expect(err).toContain(`${file}:4:`);
    expect(err).toContain('model.layers.0.padding: "same" needs stride 1');
  });

  it('exits 2 naming the layer and the shapes when the kernel does not fit', () => {
    const file = tmp.write(
      'too-big.yaml',
      'model:\n  input: [1, 4, 4]\n  layers:\n    - {type: conv2d, filters: 2, kernel: 5}\n    - flatten\n    - {type: dense, units: 2}\n',
    );
    const err = expectInputError(dlt(['gradcheck', file], tmp.dir));
    expect(err).toContain(
      `${file}: model.layers.0 (conv2d_1): the 5×5 kernel (stride 1) does not fit its input [1, 4, 4]: the output would be [2, 0, 0]`,
    );
  });

  it('trains a tiny CNN for one epoch on the shipped Fashion-MNIST subset', () => {
    expect(existsSync(path.join(mini, 'train-images-idx3-ubyte.gz'))).toBe(true);
    const config = [
      'name: tiny-cnn',
      'data:',
      `  train: {format: idx, images: ${JSON.stringify(path.join(mini, 'train-images-idx3-ubyte.gz'))}, labels: ${JSON.stringify(path.join(mini, 'train-labels-idx1-ubyte.gz'))}}`,
      `  test: {format: idx, images: ${JSON.stringify(path.join(mini, 't10k-images-idx3-ubyte.gz'))}, labels: ${JSON.stringify(path.join(mini, 't10k-labels-idx1-ubyte.gz'))}}`,
      '  preprocess: {scale: 255}',
      'model:',
      '  input: [1, 28, 28]',
      '  layers:',
      '    - {type: conv2d, filters: 4, kernel: 3}',
      '    - relu',
      '    - {type: maxpool2d, size: 2}',
      '    - flatten',
      '    - {type: dense, units: 10, init: xavier}',
      'optimizer: {type: sgd, lr: 0.05, momentum: 0.9}',
      'training: {epochs: 1, batch_size: 64}',
      '',
    ].join('\n');
    const file = tmp.write('tiny-cnn.yaml', config);
    const r = dlt(['train', file, '--out', path.join(tmp.dir, 'runs')], tmp.dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const runDir = r.stdout.split('\n')[0]!.trim();
    expect(existsSync(path.join(runDir, 'best.safetensors')) || existsSync(path.join(runDir, 'snapshots', 'latest.safetensors'))).toBe(true);
    const evaluated = dlt(['eval', runDir, '--json'], tmp.dir);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const result = JSON.parse(evaluated.stdout) as { samples: number; accuracy: number };
    expect(result.samples).toBe(2000);
    // One epoch of a 4-filter CNN is far above chance (10%) on this subset.
    expect(result.accuracy).toBeGreaterThan(0.5);
  }, 120_000);
});
