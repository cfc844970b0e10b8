import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assertPassed, gradcheckJson } from '../src/cli/commands/gradcheck.js';
import { loadModelConfig } from '../src/config/load.js';
import { modelConfigSchema } from '../src/config/schema.js';
import { RunError } from '../src/errors.js';
import {
  chooseEntries,
  type GradcheckOptions,
  type GradcheckReport,
  gradcheck,
  KINKED_THRESHOLD,
  SMOOTH_THRESHOLD,
} from '../src/gradcheck/gradcheck.js';
import { Elu, LeakyRelu, Relu } from '../src/layers/activations.js';
import { Dense } from '../src/layers/dense.js';
import { createParam, type Layer, type LayerContext, type Param, Workspace } from '../src/layers/layer.js';
import { Prelu } from '../src/layers/prelu.js';
import { Absolute } from '../src/losses/absolute.js';
import type { Loss } from '../src/losses/loss.js';
import { MulticlassHinge } from '../src/losses/multiclassHinge.js';
import { SoftmaxCrossEntropy } from '../src/losses/softmaxCrossEntropy.js';
import { Squared } from '../src/losses/squared.js';
import { buildModel } from '../src/model/build.js';
import { Network } from '../src/model/network.js';
import { Regularizer } from '../src/optim/regularization.js';
import { jsKernels } from '../src/tensor/kernels.js';
import type { FloatArray } from '../src/tensor/types.js';
import { sizeOf } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';

const tmp = tempDir('dlt-gradcheck-');
afterAll(() => tmp.cleanup());

const DEFAULTS: GradcheckOptions = { batch: 4, seed: 1, delta: 1e-6, samples: 8 };

/** Gradcheck the model a (partial) model file describes, in float64, without the CLI. */
function check(file: Record<string, unknown>, options: Partial<GradcheckOptions> = {}): GradcheckReport {
  const spec = modelConfigSchema.parse(file);
  const model = buildModel(spec, jsKernels, 'float64');
  const regularizer = new Regularizer(spec.regularization, model.network.namedParams());
  return gradcheck({ ...model, regularizer }, { ...DEFAULTS, ...options });
}

const byName = (r: GradcheckReport) => Object.fromEntries(r.tensors.map((t) => [t.name, t]));
const describeReport = (r: GradcheckReport) =>
  r.tensors.map((t) => `${t.name}: ${t.maxRelError.toExponential(2)} / ${t.threshold} (${t.kinks} kinks) ${t.verdict}`).join('\n');

// ---------------------------------------------------------------- every layer, loss and regulariser

interface Case {
  title: string;
  file: Record<string, unknown>;
  batch: number;
  /** Tensors in which the objective has a kink (threshold 1e-4); all others must reach 1e-7. */
  kinked: string[] | 'all';
}

const vector = (input: number[], layers: unknown[]) => ({ input, layers });

const cases: Case[] = [
  // Smooth objectives: every tensor below 1e-7.
  { title: 'dense alone, batch 1', file: { model: vector([3], [{ type: 'dense', units: 5 }]) }, batch: 1, kinked: [] },
  {
    title: 'dense–sigmoid–dense, odd sizes',
    file: { model: vector([7], [{ type: 'dense', units: 13 }, 'sigmoid', { type: 'dense', units: 5 }]) },
    batch: 3,
    kinked: [],
  },
  {
    title: 'tanh into one output unit, squared loss',
    file: { model: vector([7], [{ type: 'dense', units: 13 }, 'tanh', { type: 'dense', units: 1 }]), loss: 'squared' },
    batch: 4,
    kinked: [],
  },
  {
    title: 'flatten of [2, 3, 5], elu with alpha 1 (continuously differentiable)',
    file: {
      model: vector([2, 3, 5], ['flatten', { type: 'dense', units: 13 }, { type: 'elu', alpha: 1 }, { type: 'dense', units: 5 }]),
      loss: 'squared',
    },
    batch: 2,
    kinked: [],
  },
  {
    title: 'dropout (one fixed mask)',
    file: { model: vector([7], [{ type: 'dense', units: 13 }, 'tanh', { type: 'dropout', rate: 0.5 }, { type: 'dense', units: 5 }]) },
    batch: 3,
    kinked: [],
  },
  {
    title: 'dropout on the input',
    file: { model: vector([2, 3, 5], [{ type: 'dropout', rate: 0.3 }, 'flatten', { type: 'dense', units: 5 }]) },
    batch: 1,
    kinked: [],
  },
  {
    title: 'L2 on weights',
    file: { model: vector([2, 3, 5], ['flatten', { type: 'dense', units: 5 }, 'tanh', { type: 'dense', units: 5 }]), regularization: { l2: 0.01 } },
    batch: 4,
    kinked: [],
  },
  {
    title: 'L2 on weights and biases',
    file: {
      model: vector([7], [{ type: 'dense', units: 13 }, 'sigmoid', { type: 'dense', units: 5 }]),
      regularization: { l2: 0.05, regularize_bias: true },
    },
    batch: 1,
    kinked: [],
  },
  // Kinked activations: the kink lies in their input, so it reaches the input and earlier layers.
  {
    title: 'relu',
    file: { model: vector([7], [{ type: 'dense', units: 13 }, 'relu', { type: 'dense', units: 5 }]) },
    batch: 3,
    kinked: ['input', 'param/dense_1/weight', 'param/dense_1/bias'],
  },
  {
    title: 'leaky_relu, batch 1',
    file: {
      model: vector(
        [3],
        [
          { type: 'dense', units: 13 },
          { type: 'leaky_relu', alpha: 0.1 },
          { type: 'dense', units: 5 },
        ],
      ),
    },
    batch: 1,
    kinked: ['input', 'param/dense_1/weight', 'param/dense_1/bias'],
  },
  {
    title: 'elu with alpha 0.5',
    file: {
      model: vector(
        [7],
        [
          { type: 'dense', units: 5 },
          { type: 'elu', alpha: 0.5 },
          { type: 'dense', units: 5 },
        ],
      ),
      loss: 'squared',
    },
    batch: 4,
    kinked: ['input', 'param/dense_1/weight', 'param/dense_1/bias'],
  },
  {
    title: 'prelu per channel on [2, 3, 5] (smooth in its own slopes)',
    file: { model: vector([2, 3, 5], [{ type: 'prelu' }, 'flatten', { type: 'dense', units: 5 }]) },
    batch: 3,
    kinked: ['input'],
  },
  {
    title: 'prelu shared, on vectors',
    file: {
      model: vector(
        [7],
        [
          { type: 'dense', units: 13 },
          { type: 'prelu', shared: true },
          { type: 'dense', units: 5 },
        ],
      ),
    },
    batch: 4,
    kinked: ['input', 'param/dense_1/weight', 'param/dense_1/bias'],
  },
  {
    title: 'prelu per unit, on vectors, then another dense',
    file: {
      model: vector(
        [3],
        [{ type: 'dense', units: 5 }, { type: 'prelu', init: 0.1 }, { type: 'dense', units: 13 }, 'tanh', { type: 'dense', units: 1 }],
      ),
      loss: 'squared',
    },
    batch: 2,
    kinked: ['input', 'param/dense_1/weight', 'param/dense_1/bias'],
  },
  // Kinked losses: every tensor.
  {
    title: 'multiclass hinge',
    file: { model: vector([7], [{ type: 'dense', units: 13 }, 'tanh', { type: 'dense', units: 5 }]), loss: { type: 'multiclass_hinge', margin: 1 } },
    batch: 4,
    kinked: 'all',
  },
  {
    title: 'absolute loss, one output unit, batch 1',
    file: { model: vector([3], [{ type: 'dense', units: 5 }, 'sigmoid', { type: 'dense', units: 1 }]), loss: 'absolute' },
    batch: 1,
    kinked: 'all',
  },
  // L1: a kink only in the tensors it decays.
  {
    title: 'L1 on weights',
    file: { model: vector([7], [{ type: 'dense', units: 13 }, 'tanh', { type: 'dense', units: 5 }]), regularization: { l1: 0.01 } },
    batch: 3,
    kinked: ['param/dense_1/weight', 'param/dense_2/weight'],
  },
  {
    title: 'L1 and L2 on weights, biases and PReLU slopes',
    file: {
      model: vector([7], [{ type: 'dense', units: 13 }, 'sigmoid', { type: 'dense', units: 5 }, { type: 'prelu' }, { type: 'dense', units: 5 }]),
      regularization: { l1: 0.01, l2: 0.01, regularize_bias: true },
    },
    batch: 2,
    kinked: [
      'input',
      'param/dense_1/weight',
      'param/dense_1/bias',
      'param/dense_2/weight',
      'param/dense_2/bias',
      'param/prelu_1/alpha',
      'param/dense_3/weight',
      'param/dense_3/bias',
    ],
  },
  {
    title: 'everything at once: flatten, relu, dropout, prelu, hinge, L1 + L2',
    file: {
      model: vector(
        [2, 3, 5],
        [
          'flatten',
          { type: 'dense', units: 13 },
          'relu',
          { type: 'dropout', rate: 0.2 },
          { type: 'dense', units: 7 },
          { type: 'prelu', shared: true },
          { type: 'dense', units: 5 },
        ],
      ),
      loss: 'multiclass_hinge',
      regularization: { l1: 0.001, l2: 0.001 },
    },
    batch: 3,
    kinked: 'all',
  },
];

describe('gradcheck passes on every layer, loss and regulariser', () => {
  for (const c of cases) {
    it(c.title, () => {
      const r = check(c.file, { batch: c.batch });
      const context = describeReport(r);
      expect(r.passed, context).toBe(true);
      expect(r.tensors[0]!.name).toBe('input');
      for (const t of r.tensors) {
        const kinked = c.kinked === 'all' || c.kinked.includes(t.name);
        expect(t.threshold, `${t.name}\n${context}`).toBe(kinked ? KINKED_THRESHOLD : SMOOTH_THRESHOLD);
        expect(t.verdict, context).toBe('ok');
        // Away from the kinks the objective is smooth: the entries that count reach 1e-7 too.
        expect(t.maxRelError, `${t.name}\n${context}`).toBeLessThan(SMOOTH_THRESHOLD);
        expect(t.entriesChecked).toBeGreaterThan(0);
      }
    });
  }

  it('reports dropout as evaluated with one fixed mask, and only when a mask was drawn', () => {
    const withDropout = check(cases.find((c) => c.title.startsWith('dropout ('))!.file);
    expect(withDropout.fixedNoise).toBe(true);
    const rateZero = check({
      model: vector(
        [3],
        [
          { type: 'dropout', rate: 0 },
          { type: 'dense', units: 2 },
        ],
      ),
    });
    expect(rateZero.fixedNoise).toBe(false);
  });

  it('takes 0/0 (every gradient exactly zero) as agreement: softmax over one class', () => {
    // One class: the loss is log 1 = 0 whatever the scores, so every gradient is 0.
    const r = check({ model: vector([3], [{ type: 'dense', units: 4 }, 'tanh', { type: 'dense', units: 1 }]) });
    expect(r.passed).toBe(true);
    for (const t of r.tensors) expect([t.maxRelError, t.verdict]).toEqual([0, 'ok']);
  });

  it('is deterministic for a seed, and another seed checks another point', () => {
    const file = cases[1]!.file;
    const a = check(file, { seed: 5 });
    expect(check(file, { seed: 5 })).toEqual(a);
    expect(check(file, { seed: 6 }).tensors.map((t) => t.maxRelError)).not.toEqual(a.tensors.map((t) => t.maxRelError));
  });
});

// ---------------------------------------------------------------- kinks

describe('kinks', () => {
  // One hidden ReLU layer and the squared loss: along any single coordinate the scores are
  // piecewise linear and the loss piecewise quadratic, so centred differences are exact
  // (up to rounding) even with a large δ — except across a kink, where they are far off.
  const reluModel = { model: vector([5], [{ type: 'dense', units: 13 }, 'relu', { type: 'dense', units: 4 }]), loss: 'squared' };

  it('with a large step, entries that cross a ReLU kink are counted and left out; the rest agree', () => {
    const r = check(reluModel, { delta: 0.05, batch: 8 });
    const t = byName(r);
    expect(t.input!.kinks + t['param/dense_1/weight']!.kinks + t['param/dense_1/bias']!.kinks).toBeGreaterThan(0);
    // Nothing after the last ReLU can move its input: no kinks there.
    expect(t['param/dense_2/weight']!.kinks).toBe(0);
    expect(r.passed, describeReport(r)).toBe(true);
    for (const c of r.tensors) expect(c.maxRelError).toBeLessThan(1e-8);
  });

  it('without the kink signature, the same crossings would fail the check', () => {
    // The same network, built by hand, with a ReLU that hides its kinks.
    const noise = Rng.derive(1, 'dropout');
    const rng = Rng.derive(1, 'init');
    const dense1 = new Dense({ units: 13, init: { type: 'kaiming' }, bias_init: { type: 'zeros' } }, ctx([5], 'dense_1', rng, noise));
    const relu = new Relu(ctx([13], 'relu_1', rng, noise));
    const hidden: Layer = {
      name: 'blind_relu_1',
      type: 'blind_relu',
      outputShape: [13],
      params: [],
      forward: (x, n, training) => relu.forward(x, n, training),
      backward: (dy, n, needInput) => relu.backward(dy, n, needInput),
    };
    const dense2 = new Dense({ units: 4, init: { type: 'kaiming' }, bias_init: { type: 'zeros' } }, ctx([13], 'dense_2', rng, noise));
    const network = Network.fromLayers([dense1, hidden, dense2], [5], 'float64');
    const blind = runOn(network, new Squared(4, 'float64'), { delta: 0.05, batch: 8 });
    expect(blind.passed).toBe(false);
    expect(blind.tensors.every((t) => t.kinks === 0)).toBe(true);
  });

  it('relu, leaky_relu, prelu and elu (alpha ≠ 1) signatures change exactly when an element changes side', () => {
    const rng = Rng.derive(1, 'init');
    const noise = Rng.derive(1, 'dropout');
    const layers: Layer[] = [
      new Relu(ctx([3], 'relu_1', rng, noise)),
      new Prelu({ init: 0.25, shared: false }, ctx([3], 'prelu_1', rng, noise)),
      new LeakyRelu(ctx([3], 'leaky_relu_1', rng, noise), 0.5),
      new Elu(ctx([3], 'elu_1', rng, noise), 0.5),
    ];
    for (const layer of layers) {
      const sig = (values: number[]) => {
        layer.forward(Float64Array.from(values), 1, true);
        return layer.kinkSignature!();
      };
      const base = sig([0.5, -1, 2]);
      expect(sig([0.7, -0.3, 1]), layer.type).toBe(base);
      expect(sig([0.5, 1e-9, 2]), layer.type).not.toBe(base);
      expect(sig([-1e-9, -1, 2]), layer.type).not.toBe(base);
      // The kink itself (x = 0) is on the x ≤ 0 side.
      expect(sig([0.5, 0, 2]), layer.type).toBe(base);
    }
  });

  it('smooth layers have no signature: sigmoid, tanh, elu with alpha 1, dense, dropout, flatten', () => {
    const network = new Network(
      [
        { type: 'flatten' },
        { type: 'dense', units: 3, init: { type: 'kaiming' }, bias_init: { type: 'zeros' } },
        { type: 'sigmoid' },
        { type: 'tanh' },
        { type: 'elu', alpha: 1 },
        { type: 'dropout', rate: 0.5 },
      ],
      [3],
      { dtype: 'float64', kernels: jsKernels, rng: Rng.derive(1, 'init'), noise: Rng.derive(1, 'dropout') },
    );
    for (const layer of network.layers) expect(layer.kinkSignature, layer.type).toBeUndefined();
    expect((new SoftmaxCrossEntropy(3, 'float64') as Loss).kinkSignature).toBeUndefined();
  });

  it('hinge signature: the active flag and the strongest competitor; absolute: the sign of each residual', () => {
    const hinge = new MulticlassHinge(3, 'float64', 1);
    const labels = Int32Array.from([0]);
    const hingeSig = (scores: number[]) => {
      hinge.forward(Float64Array.from(scores), labels, 1);
      return hinge.kinkSignature();
    };
    const active = hingeSig([1, 0.5, 0.2]); // competitor 1, ℓ = 0.5
    expect(hingeSig([1, 0.6, 0.1])).toBe(active);
    expect(hingeSig([1, 0.2, 0.5])).not.toBe(active); // competitor 2 now
    const inactive = hingeSig([3, 0.5, 0.2]); // margin met: ℓ = 0
    expect(inactive).not.toBe(active);
    expect(hingeSig([3, 0.2, 0.5])).toBe(inactive); // a new competitor while ℓ = 0 is no kink

    const absolute = new Absolute(2, 'float64');
    const absSig = (scores: number[]) => {
      absolute.forward(Float64Array.from(scores), labels, 1);
      return absolute.kinkSignature();
    };
    // Targets [1, 0]: residuals [0.5, −0.5] then [0.2, −0.1], then [−0.1, −0.1]
    expect(absSig([1.5, -0.5])).toBe(absSig([1.2, -0.1]));
    expect(absSig([0.9, -0.1])).not.toBe(absSig([1.2, -0.1]));
  });

  it('L1 signature follows the signs of the decayed entries only', () => {
    const w = createParam('weight', [2], 'float64', true);
    const b = createParam('bias', [1], 'float64', false);
    w.value.set([0.5, -0.5]);
    b.value.set([0.5]);
    const params = [
      { key: 'd/weight', param: w },
      { key: 'd/bias', param: b },
    ];
    const reg = new Regularizer({ l1: 0.1, l2: 0, regularize_bias: false }, params);
    expect([reg.kinkedIn(w), reg.kinkedIn(b)]).toEqual([true, false]);
    const base = reg.kinkSignature();
    b.value[0] = -0.5;
    expect(reg.kinkSignature()).toBe(base);
    w.value[1] = 0.1;
    expect(reg.kinkSignature()).not.toBe(base);
    const l2only = new Regularizer({ l1: 0, l2: 0.1, regularize_bias: true }, params);
    expect([l2only.kinkedIn(w), l2only.kinkedIn(b)]).toEqual([false, false]);
  });
});

// ---------------------------------------------------------------- planted faults

function ctx(inputShape: number[], name: string, rng = Rng.derive(1, 'init'), noise = Rng.derive(1, 'dropout')): LayerContext {
  return { name, inputShape, dtype: 'float64', kernels: jsKernels, rng, noise };
}

function runOn(network: Network, loss: Loss, options: Partial<GradcheckOptions> = {}): GradcheckReport {
  const regularizer = new Regularizer({ l1: 0, l2: 0, regularize_bias: false }, network.namedParams());
  return gradcheck({ network, loss, regularizer, noise: Rng.derive(1, 'dropout') }, { ...DEFAULTS, ...options });
}

/** y = s ⊙ x with a learned scale s per unit — and a sign error in dL/dx (its dL/ds is right). */
class SignFlippedScale implements Layer {
  readonly type = 'flipped_scale';
  readonly outputShape: readonly number[];
  readonly params: readonly Param[];
  private readonly scale: Param;
  private readonly size: number;
  private readonly y: Workspace;
  private readonly dx: Workspace;
  private x: FloatArray | undefined;
  constructor(
    readonly name: string,
    shape: number[],
  ) {
    this.outputShape = shape;
    this.size = sizeOf(shape);
    this.scale = createParam('scale', shape, 'float64', true);
    this.scale.value.fill(1.5);
    this.params = [this.scale];
    this.y = new Workspace('float64', this.size);
    this.dx = new Workspace('float64', this.size);
  }
  forward(x: FloatArray, n: number): FloatArray {
    const y = this.y.get(n);
    for (let i = 0; i < n * this.size; i++) y[i] = this.scale.value[i % this.size]! * x[i]!;
    this.x = x;
    return y;
  }
  backward(dy: FloatArray, n: number): FloatArray {
    const dx = this.dx.get(n);
    for (let i = 0; i < n * this.size; i++) {
      this.scale.grad[i % this.size]! += dy[i]! * this.x![i]!;
      dx[i] = -this.scale.value[i % this.size]! * dy[i]!; // the planted fault: should be +
    }
    return dx;
  }
}

/** y = x² — whose backward forgets the 2: dx = dy·x instead of 2·dy·x. */
class SquareMissingTwo implements Layer {
  readonly type = 'square';
  readonly params = [];
  private readonly size: number;
  private readonly y: Workspace;
  private readonly dx: Workspace;
  private x: FloatArray | undefined;
  constructor(
    readonly name: string,
    readonly outputShape: number[],
  ) {
    this.size = sizeOf(outputShape);
    this.y = new Workspace('float64', this.size);
    this.dx = new Workspace('float64', this.size);
  }
  forward(x: FloatArray, n: number): FloatArray {
    const y = this.y.get(n);
    for (let i = 0; i < n * this.size; i++) y[i] = x[i]! * x[i]!;
    this.x = x;
    return y;
  }
  backward(dy: FloatArray, n: number): FloatArray {
    const dx = this.dx.get(n);
    for (let i = 0; i < n * this.size; i++) dx[i] = dy[i]! * this.x![i]!; // the planted fault: 2·dy·x
    return dx;
  }
}

function plantedNetwork(middle: (shape: number[]) => Layer): Network {
  const rng = Rng.derive(1, 'init');
  const noise = Rng.derive(1, 'dropout');
  const dense = (inputs: number, units: number, name: string) =>
    new Dense({ units, init: { type: 'xavier' }, bias_init: { type: 'zeros' } }, ctx([inputs], name, rng, noise));
  return Network.fromLayers([dense(5, 7, 'dense_1'), middle([7]), dense(7, 3, 'dense_2')], [5], 'float64');
}

describe('planted faults are reported as wrong', () => {
  it('a sign error in a backward: the tensors below it are wrong, its own parameter and those above are fine', () => {
    const r = runOn(
      plantedNetwork((shape) => new SignFlippedScale('flipped_scale_1', shape)),
      new SoftmaxCrossEntropy(3, 'float64'),
    );
    const t = byName(r);
    expect(r.passed).toBe(false);
    for (const name of ['input', 'param/dense_1/weight', 'param/dense_1/bias']) {
      expect(t[name]!.verdict, describeReport(r)).toBe('wrong');
      expect(t[name]!.maxRelError).toBeGreaterThan(1e-2);
    }
    for (const name of ['param/flipped_scale_1/scale', 'param/dense_2/weight', 'param/dense_2/bias'])
      expect(t[name]!.verdict, describeReport(r)).toBe('ok');
    expect(() => assertPassed(r)).toThrow(RunError);
  });

  it('a missing factor of 2 (y = x², dx = dy·x): off by half below it', () => {
    const r = runOn(
      plantedNetwork((shape) => new SquareMissingTwo('square_1', shape)),
      new SoftmaxCrossEntropy(3, 'float64'),
    );
    const t = byName(r);
    expect(r.passed).toBe(false);
    for (const name of ['input', 'param/dense_1/weight', 'param/dense_1/bias']) {
      expect(t[name]!.verdict, describeReport(r)).toBe('wrong');
      // g = g'/2 everywhere: |g − g'| / |g'| = 1/2.
      expect(t[name]!.maxRelError).toBeCloseTo(0.5, 6);
    }
    expect(t['param/dense_2/weight']!.verdict).toBe('ok');
    expect(gradcheckJson(r)).toMatchObject({ passed: false });
    // The CLI maps a failed check to exit 1 through this RunError (main.ts: RunError → 1).
    let thrown: unknown;
    try {
      assertPassed(r);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RunError);
    expect((thrown as RunError).exitCode).toBe(1);
    expect((thrown as RunError).message).toContain('param/dense_1/weight');
  });

  it('a passing report does not throw', () => {
    expect(() => assertPassed(check(cases[0]!.file))).not.toThrow();
  });
});

// ---------------------------------------------------------------- entries checked

describe('choice of entries', () => {
  const rng = () => Rng.derive(1, 'entries');

  it('checks every entry of a tensor of at most 2000 entries, or with samples = 0', () => {
    expect(chooseEntries([40, 50], 3, rng())).toHaveLength(2000);
    expect(chooseEntries([3000], 3, rng())).toHaveLength(3000); // a row per entry
    expect(chooseEntries([100, 784], 0, rng())).toHaveLength(78400);
  });

  it('checks K distinct entries in every row of a larger tensor: a subset of each class, never a subset of classes', () => {
    const entries = chooseEntries([128, 784], 8, rng());
    expect(entries).toHaveLength(128 * 8);
    expect(new Set(entries).size).toBe(entries.length);
    const rows = new Map<number, number>();
    for (const e of entries) rows.set(Math.floor(e / 784), (rows.get(Math.floor(e / 784)) ?? 0) + 1);
    expect([...rows.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 128 }, (_, r) => r));
    expect([...rows.values()].every((k) => k === 8)).toBe(true);
  });

  it('counts what it checked in the report', () => {
    const r = check({ model: vector([1, 28, 28], ['flatten', { type: 'dense', units: 3 }, { type: 'dense', units: 2 }]) }, { batch: 3, samples: 2 });
    const t = byName(r);
    expect(t.input!.entriesChecked).toBe(3 * 2); // [3, 1, 28, 28]: 2352 entries, 2 per sample
    expect(t['param/dense_1/weight']!.entriesChecked).toBe(3 * 2); // [3, 784]: 2352 entries, 2 per unit
    expect(t['param/dense_1/bias']!.entriesChecked).toBe(3);
    expect(t['param/dense_2/weight']!.entriesChecked).toBe(6); // [2, 3]: all
  });
});

// ---------------------------------------------------------------- loading

describe('loadModelConfig', () => {
  it('reads a model file: loss and regularization default as in a config', () => {
    const file = tmp.write('model-only.yaml', 'model:\n  input: [3]\n  layers: [{type: dense, units: 2}]\n');
    const spec = loadModelConfig(file);
    expect(spec.model.input).toEqual([3]);
    expect(spec.loss).toEqual({ type: 'softmax_cross_entropy' });
    expect(spec.regularization).toEqual({ l1: 0, l2: 0, regularize_bias: false });
    expect(spec.seed).toBe(1);
  });

  it('reads the model part of a full config, validating all of it', () => {
    const spec = loadModelConfig(path.join(repoRoot, 'configs', 'fashion-mini-adam.yaml'));
    expect(spec.regularization.l2).toBe(0.00005);
    expect(spec.model.layers).toHaveLength(5);
    const broken = tmp.write('broken-full.yaml', 'data: {train: {format: xor}}\nmodel: {input: [2], layers: [{type: dense, units: 2}]}\n');
    expect(() => loadModelConfig(broken)).toThrow(/optimizer: missing/);
  });
});

// ---------------------------------------------------------------- the CLI

const modelFile = (layers: string, extra = '') => `model:\n  input: [4]\n  layers:\n${layers}\n${extra}`;

describe('dlt gradcheck', () => {
  const configs = readdirSync(path.join(repoRoot, 'configs')).filter((f) => f.endsWith('.yaml'));

  for (const name of configs) {
    // The convolutional configs cost a LeNet forward pass per checked entry: allow minutes.
    it(`passes on configs/${name}`, { timeout: 300_000 }, () => {
      const r = dlt(['gradcheck', path.join('configs', name), '--batch', '2', '--samples', '3'], repoRoot);
      expect(r.stderr).toBe('');
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toContain('passed: all');
      expect(r.stdout).toMatch(/^input\s+\d+\s+\S+\s+1e-[47]\s+0\s+ok$/m);
    });
  }

  it('prints the JSON object of SPEC §1 with --json', () => {
    const file = tmp.write(
      'json.yaml',
      modelFile('    - {type: dense, units: 6}\n    - relu\n    - {type: dense, units: 3}', 'loss: squared\nregularization: {l2: 0.01}\n'),
    );
    const r = dlt(['gradcheck', file, '--json', '--batch', '3', '--seed', '4'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { passed: boolean; tensors: Record<string, unknown>[] };
    expect(Object.keys(out)).toEqual(['passed', 'tensors']);
    expect(out.passed).toBe(true);
    expect(out.tensors.map((t) => t.name)).toEqual([
      'input',
      'param/dense_1/weight',
      'param/dense_1/bias',
      'param/dense_2/weight',
      'param/dense_2/bias',
    ]);
    for (const t of out.tensors) {
      expect(Object.keys(t)).toEqual(['name', 'entries_checked', 'max_rel_error', 'threshold', 'kinks', 'verdict']);
      expect(t.verdict).toBe('ok');
      expect(typeof t.max_rel_error).toBe('number');
    }
    expect(out.tensors[0]).toMatchObject({ entries_checked: 12, threshold: 1e-4 });
    expect(out.tensors[3]).toMatchObject({ entries_checked: 18, threshold: 1e-7 });
  });

  it('says when dropout was evaluated with one fixed mask', () => {
    const file = tmp.write(
      'dropout.yaml',
      modelFile('    - {type: dense, units: 6}\n    - {type: dropout, rate: 0.5}\n    - {type: dense, units: 3}'),
    );
    const r = dlt(['gradcheck', file], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dropout: evaluated in training mode, with the same mask for every evaluation');
  });

  it('exits 1 when a tensor is over its threshold (here: a step far too large for tanh)', () => {
    const file = tmp.write('coarse.yaml', modelFile('    - {type: dense, units: 6}\n    - tanh\n    - {type: dense, units: 3}'));
    const r = dlt(['gradcheck', file, '--delta', '0.5'], tmp.dir);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/\b(wrong|uncomfortable)$/m);
    expect(r.stdout).toContain('FAILED');
    expect(r.stderr).toMatch(/^error: gradient check failed: \d+ of 5 tensors over their threshold/);
    const json = dlt(['gradcheck', file, '--delta', '0.5', '--json'], tmp.dir);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).passed).toBe(false);
  });

  it('exits 2 for a file with no model', () => {
    const file = tmp.write('no-model.yaml', 'loss: squared\nregularization: {l2: 0.1}\n');
    expect(expectInputError(dlt(['gradcheck', file], tmp.dir))).toContain('no `model:` in this file; dlt gradcheck needs `model:`');
    const empty = tmp.write('empty.yaml', '');
    expect(expectInputError(dlt(['gradcheck', empty], tmp.dir))).toContain('the file is empty');
  });

  it('exits 2 for an unknown layer, with line:col and a did-you-mean', () => {
    const file = tmp.write('unknown-layer.yaml', modelFile('    - {type: dense, units: 6}\n    - relo\n    - {type: dense, units: 3}'));
    const err = expectInputError(dlt(['gradcheck', file], tmp.dir));
    expect(err).toContain(`${file}:5:7: model.layers.1.type: unknown type "relo"; did you mean "relu"?`);
  });

  it('exits 2 for an unknown top-level key of a model file, with a did-you-mean', () => {
    const file = tmp.write('typo.yaml', modelFile('    - {type: dense, units: 3}', 'regularisation: {l2: 0.1}\n'));
    expect(expectInputError(dlt(['gradcheck', file], tmp.dir))).toMatch(
      /typo\.yaml:5:1: regularisation: unknown key "regularisation"; did you mean "regularization"\?/,
    );
  });

  it('exits 2 for an input of the wrong rank (images into dense), naming the file', () => {
    const file = tmp.write('rank.yaml', 'model:\n  input: [1, 28, 28]\n  layers: [{type: dense, units: 10}]\n');
    const err = expectInputError(dlt(['gradcheck', file], tmp.dir));
    expect(err).toContain(
      `${file}: model.layers.0 (dense_1): dense needs one vector per sample but receives shape [1, 28, 28]; add "- flatten" before it`,
    );
  });

  it('exits 2 for bad options and a missing file', () => {
    const file = tmp.write('ok.yaml', modelFile('    - {type: dense, units: 3}'));
    for (const args of [
      ['--delta', '0'],
      ['--delta', 'small'],
      ['--batch', '0'],
      ['--samples', '-1'],
      ['--seed', '1.5'],
    ]) {
      const r = dlt(['gradcheck', file, ...args], tmp.dir);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/error: option '--\w+ <\w+>' argument '.*' is invalid/);
    }
    expect(expectInputError(dlt(['gradcheck', path.join(tmp.dir, 'nope.yaml')], tmp.dir))).toContain('config file not found');
  });
});
