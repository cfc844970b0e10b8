import { afterAll, describe, expect, it } from 'vitest';
import { layerSpec, modelConfigSchema } from '../src/config/schema.js';
import { type GradcheckReport, gradcheck, KINKED_THRESHOLD, SMOOTH_THRESHOLD } from '../src/gradcheck/gradcheck.js';
import { ChannelMaxpool } from '../src/layers/channelMaxpool.js';
import type { Layer, LayerContext } from '../src/layers/layer.js';
import { AvgPool2d, MaxPool2d } from '../src/layers/pool2d.js';
import { buildModel } from '../src/model/build.js';
import { Regularizer } from '../src/optim/regularization.js';
import { jsKernels } from '../src/tensor/kernels.js';
import { Rng } from '../src/util/rng.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { inputErrorOf, networkOf } from './support/layers.js';

const tmp = tempDir('dlt-pool-');
afterAll(() => tmp.cleanup());

function ctx(inputShape: number[], name = 'pool_1'): LayerContext {
  return { name, inputShape, dtype: 'float64', kernels: jsKernels, rng: Rng.derive(1, 'init'), noise: Rng.derive(1, 'dropout') };
}
const randomArray = (length: number, seed: number) => {
  const rng = Rng.derive(seed, 'pool-test');
  return Float64Array.from({ length }, () => rng.normal());
};

/** Windows of x (n, C, H, W) by the definition: the list of values of each output's window. */
function windows(x: Float64Array, n: number, [C, H, W]: number[], size: number, stride: number): number[][] {
  const outH = Math.floor((H! - size) / stride) + 1;
  const outW = Math.floor((W! - size) / stride) + 1;
  const out: number[][] = [];
  for (let i = 0; i < n * C!; i++)
    for (let oy = 0; oy < outH; oy++)
      for (let ox = 0; ox < outW; ox++) {
        const cells: number[] = [];
        for (let u = 0; u < size; u++) for (let v = 0; v < size; v++) cells.push(x[i * H! * W! + (oy * stride + u) * W! + ox * stride + v]!);
        out.push(cells);
      }
  return out;
}

const configs = [
  { size: 2, stride: 2, shape: [3, 8, 8] },
  { size: 2, stride: 2, shape: [2, 7, 9] }, // the last row and column are dropped
  { size: 3, stride: 1, shape: [2, 7, 8] }, // overlapping windows
  { size: 3, stride: 2, shape: [1, 7, 8] }, // overlapping windows, strided
  { size: 2, stride: 3, shape: [2, 8, 8] }, // gaps between windows
];

describe('maxpool2d and avgpool2d forward', () => {
  for (const { size, stride, shape } of configs) {
    it(`size ${size}, stride ${stride} on [${shape.join(', ')}]`, () => {
      const n = 2;
      const x = randomArray(n * shape[0]! * shape[1]! * shape[2]!, size * 10 + stride);
      const want = windows(x, n, shape, size, stride);
      const max = new MaxPool2d({ size, stride }, ctx(shape));
      const avg = new AvgPool2d({ size, stride }, ctx(shape));
      const outH = Math.floor((shape[1]! - size) / stride) + 1;
      const outW = Math.floor((shape[2]! - size) / stride) + 1;
      expect(max.outputShape).toEqual([shape[0], outH, outW]);
      expect(avg.outputShape).toEqual([shape[0], outH, outW]);
      const yMax = Array.from(max.forward(x, n, true).subarray(0, want.length));
      expect(yMax).toEqual(want.map((cells) => Math.max(...cells)));
      const yAvg = avg.forward(x, n, true);
      for (const [o, cells] of want.entries()) expect(yAvg[o]).toBeCloseTo(cells.reduce((a, b) => a + b, 0) / (size * size), 14);
    });
  }

  it('stride defaults to size in the schema, and the default is written out', () => {
    expect(layerSpec.parse({ type: 'maxpool2d', size: 3 })).toEqual({ type: 'maxpool2d', size: 3, stride: 3 });
    expect(layerSpec.parse({ type: 'avgpool2d', size: 2, stride: 1 })).toEqual({ type: 'avgpool2d', size: 2, stride: 1 });
    for (const bad of [{ size: 0 }, { size: 2, stride: 0 }, { size: 1.5 }, {}])
      expect(layerSpec.safeParse({ type: 'maxpool2d', ...bad }).success, JSON.stringify(bad)).toBe(false);
    expect(layerSpec.parse({ type: 'channel_maxpool', group: 2 })).toEqual({ type: 'channel_maxpool', group: 2 });
    for (const bad of [{ group: 0 }, {}, { group: 2.5 }])
      expect(layerSpec.safeParse({ type: 'channel_maxpool', ...bad }).success, JSON.stringify(bad)).toBe(false);
  });
});

describe('pooling backward', () => {
  // One 1×3×3 map, 2×2 windows with stride 1: four overlapping windows.
  // 1 5 2
  // 4 3 9
  // 7 0 6
  const x = Float64Array.from([1, 5, 2, 4, 3, 9, 7, 0, 6]);

  it('max pooling routes dy to each window’s argmax, adding where windows share it', () => {
    const pool = new MaxPool2d({ size: 2, stride: 1 }, ctx([1, 3, 3]));
    expect(Array.from(pool.forward(x, 1, true).subarray(0, 4))).toEqual([5, 9, 7, 9]);
    const dx = pool.backward(Float64Array.from([1, 10, 100, 1000]), 1, true);
    // 5 wins window 0, 9 wins windows 1 and 3, 7 wins window 2.
    expect(Array.from(dx.subarray(0, 9))).toEqual([0, 1, 0, 0, 0, 1010, 100, 0, 0]);
  });

  it('max pooling takes the first maximum on ties', () => {
    const pool = new MaxPool2d({ size: 2, stride: 2 }, ctx([1, 2, 2]));
    pool.forward(Float64Array.from([3, 3, 3, 3]), 1, true);
    expect(Array.from(pool.backward(Float64Array.from([1]), 1, true).subarray(0, 4))).toEqual([1, 0, 0, 0]);
  });

  it('average pooling spreads dy/size² over each window', () => {
    const pool = new AvgPool2d({ size: 2, stride: 1 }, ctx([1, 3, 3]));
    pool.forward(x, 1, true);
    const dx = pool.backward(Float64Array.from([4, 8, 12, 16]), 1, true);
    expect(Array.from(dx.subarray(0, 9))).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });

  it('max pool signature changes exactly when a window’s argmax changes; avgpool2d has none', () => {
    const pool = new MaxPool2d({ size: 2, stride: 2 }, ctx([1, 2, 4]));
    const sig = (values: number[]) => {
      pool.forward(Float64Array.from(values), 1, true);
      return pool.kinkSignature();
    };
    const base = sig([1, 2, 5, 0, 0, 0, 1, 1]);
    expect(sig([1.5, 2.5, 6, 0, 0, 0, 1, 1])).toBe(base);
    expect(sig([3, 2, 5, 0, 0, 0, 1, 1])).not.toBe(base);
    expect(sig([1, 2, 5, 0, 0, 0, 1, 5.1])).not.toBe(base);
    expect((new AvgPool2d({ size: 2, stride: 2 }, ctx([1, 2, 4])) as Layer).kinkSignature).toBeUndefined();
  });
});

describe('channel_maxpool (maxout)', () => {
  it('takes the max over consecutive groups of k feature maps: [C, H, W] → [C/k, H, W]', () => {
    const shape = [6, 2, 3];
    const layer = new ChannelMaxpool({ group: 3 }, ctx(shape));
    expect(layer.outputShape).toEqual([2, 2, 3]);
    const n = 2;
    const x = randomArray(n * 36, 7);
    const y = layer.forward(x, n, true);
    for (let i = 0; i < n; i++)
      for (let g = 0; g < 2; g++)
        for (let s = 0; s < 6; s++) {
          const group = [0, 1, 2].map((j) => x[(i * 6 + g * 3 + j) * 6 + s]!);
          expect(y[(i * 2 + g) * 6 + s]).toBe(Math.max(...group));
        }
  });

  it('works on vectors [D] → [D/k], routes dy to the winner, first one on ties', () => {
    const layer = new ChannelMaxpool({ group: 2 }, ctx([6]));
    expect(layer.outputShape).toEqual([3]);
    expect(Array.from(layer.forward(Float64Array.from([1, 4, 3, 2, 5, 5]), 1, true).subarray(0, 3))).toEqual([4, 3, 5]);
    expect(Array.from(layer.backward(Float64Array.from([10, 20, 30]), 1, true).subarray(0, 6))).toEqual([0, 10, 20, 0, 30, 0]);
  });

  it('kink signature: the winner of each output', () => {
    const layer = new ChannelMaxpool({ group: 2 }, ctx([4]));
    const sig = (values: number[]) => {
      layer.forward(Float64Array.from(values), 1, true);
      return layer.kinkSignature();
    };
    const base = sig([1, 2, 4, 3]);
    expect(sig([1, 3, 5, 3])).toBe(base);
    expect(sig([2.5, 2, 4, 3])).not.toBe(base);
  });
});

// ---------------------------------------------------------------- gradients

function check(model: Record<string, unknown>, batch = 3): GradcheckReport {
  const spec = modelConfigSchema.parse({ model });
  const built = buildModel(spec, jsKernels, 'float64');
  const regularizer = new Regularizer(spec.regularization, built.network.namedParams());
  return gradcheck({ ...built, regularizer }, { batch, seed: 2, delta: 1e-6, samples: 8 });
}
const describeReport = (r: GradcheckReport) =>
  r.tensors.map((t) => `${t.name}: ${t.maxRelError.toExponential(2)} / ${t.threshold} (${t.kinks} kinks) ${t.verdict}`).join('\n');

/** Passed, every tensor at its expected threshold, and below 1e-7 away from the kinks. */
function expectPassed(r: GradcheckReport, kinked: string[]): void {
  const context = describeReport(r);
  expect(r.passed, context).toBe(true);
  for (const t of r.tensors) {
    expect(t.threshold, `${t.name}\n${context}`).toBe(kinked.includes(t.name) ? KINKED_THRESHOLD : SMOOTH_THRESHOLD);
    expect(t.maxRelError, `${t.name}\n${context}`).toBeLessThan(SMOOTH_THRESHOLD);
  }
}

describe('pooling gradients pass the gradient check', () => {
  const head = ['flatten', { type: 'dense', units: 4 }];
  const below = ['input', 'param/conv2d_1/weight', 'param/conv2d_1/bias'];

  for (const { size, stride } of [
    { size: 2, stride: 2 },
    { size: 3, stride: 1 },
    { size: 3, stride: 2 },
  ]) {
    it(`avgpool2d size ${size} stride ${stride}: smooth`, () => {
      const r = check({
        input: [2, 7, 8],
        layers: [{ type: 'conv2d', filters: 3, kernel: 3, padding: 'same' }, { type: 'avgpool2d', size, stride }, ...head],
      });
      expectPassed(r, []);
    });

    it(`maxpool2d size ${size} stride ${stride}: kinked in the tensors below it`, () => {
      const r = check({
        input: [2, 7, 8],
        layers: [{ type: 'conv2d', filters: 3, kernel: 3, padding: 'same' }, { type: 'maxpool2d', size, stride }, ...head],
      });
      expectPassed(r, below);
    });
  }

  it('maxpool2d with a large step: argmax changes are counted as kinks and left out; the rest agree', () => {
    // Piecewise linear: away from a change of argmax, centred differences are exact even for a large δ.
    const spec = modelConfigSchema.parse({
      model: { input: [1, 6, 6], layers: [{ type: 'maxpool2d', size: 3, stride: 1 }, ...head] },
      loss: 'squared',
    });
    const built = buildModel(spec, jsKernels, 'float64');
    const r = gradcheck(
      { ...built, regularizer: new Regularizer(spec.regularization, built.network.namedParams()) },
      { batch: 4, seed: 1, delta: 0.3, samples: 0 },
    );
    expect(r.tensors[0]!.kinks).toBeGreaterThan(0);
    expect(r.passed, describeReport(r)).toBe(true);
  });

  it('channel_maxpool on feature maps and on vectors: kinked below it', () => {
    expectPassed(
      check({ input: [2, 5, 5], layers: [{ type: 'conv2d', filters: 6, kernel: 3 }, { type: 'channel_maxpool', group: 3 }, ...head] }),
      below,
    );
    expectPassed(
      check({
        input: [5],
        layers: [
          { type: 'dense', units: 8 },
          { type: 'channel_maxpool', group: 4 },
          { type: 'dense', units: 3 },
        ],
      }),
      ['input', 'param/dense_1/weight', 'param/dense_1/bias'],
    );
  });
});

// ---------------------------------------------------------------- shapes

const network = networkOf;
const thrown = inputErrorOf;

describe('pooling shapes', () => {
  it('a window larger than the input is an InputError naming the layer and the shapes', () => {
    const err = thrown(() =>
      network([2, 5, 6], [{ type: 'maxpool2d', size: 2 }, { type: 'avgpool2d', size: 3 }, 'flatten', { type: 'dense', units: 2 }]),
    );
    expect(err.message).toBe(
      'model.layers.1 (avgpool2d_1): the 3×3 pooling window (stride 3) does not fit its input [2, 2, 3]: the output would be [2, 0, 1]; use a smaller pooling window, or downsample less before this layer',
    );
  });

  it('pooling a vector is an InputError', () => {
    expect(thrown(() => network([8], [{ type: 'maxpool2d', size: 2 }, 'flatten', { type: 'dense', units: 2 }])).message).toBe(
      'model.layers.0 (maxpool2d_1): maxpool2d needs an image [C, H, W] per sample but receives shape [8]; set model.input to [C, H, W] and put maxpool2d before any flatten',
    );
  });

  it('a group that does not divide C is an InputError naming the layer and the shape', () => {
    expect(
      thrown(() =>
        network(
          [1, 8, 8],
          [{ type: 'conv2d', filters: 5, kernel: 3 }, { type: 'channel_maxpool', group: 2 }, 'flatten', { type: 'dense', units: 2 }],
        ),
      ).message,
    ).toBe(
      'model.layers.1 (channel_maxpool_1): group 2 does not divide the 5 channels of its input [5, 6, 6]; choose a group that divides 5, or change the layer before it',
    );
    expect(
      thrown(() =>
        network(
          [7],
          [
            { type: 'channel_maxpool', group: 2 },
            { type: 'dense', units: 2 },
          ],
        ),
      ).message,
    ).toContain('group 2 does not divide the 7 units of its input [7]');
  });

  it('flatten after pooling gives C·Hout·Wout', () => {
    const net = network(
      [1, 28, 28],
      [
        { type: 'conv2d', filters: 4, kernel: 3 },
        'relu',
        { type: 'maxpool2d', size: 2 },
        { type: 'channel_maxpool', group: 2 },
        'flatten',
        { type: 'dense', units: 10 },
      ],
    );
    expect(net.layers.map((l) => l.outputShape)).toEqual([[4, 26, 26], [4, 26, 26], [4, 13, 13], [2, 13, 13], [338], [10]]);
  });

  it('through the CLI: exit 2 with the message for each bad shape', () => {
    const model = (input: string, layers: string[]) => `model:\n  input: ${input}\n  layers:\n${layers.map((l) => `    - ${l}`).join('\n')}\n`;
    const pool = tmp.write('pool.yaml', model('[1, 4, 4]', ['{type: maxpool2d, size: 5}', 'flatten', '{type: dense, units: 2}']));
    expect(expectInputError(dlt(['gradcheck', pool], tmp.dir))).toContain(
      `${pool}: model.layers.0 (maxpool2d_1): the 5×5 pooling window (stride 5) does not fit its input [1, 4, 4]`,
    );
    const group = tmp.write('group.yaml', model('[6]', ['{type: channel_maxpool, group: 4}', '{type: dense, units: 2}']));
    expect(expectInputError(dlt(['gradcheck', group], tmp.dir))).toContain(
      `${group}: model.layers.0 (channel_maxpool_1): group 4 does not divide the 6 units of its input [6]`,
    );
  });
});
