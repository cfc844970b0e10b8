import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OptimizerSpec } from '../src/config/schema.js';
import { Tanh } from '../src/layers/activations.js';
import { Dense } from '../src/layers/dense.js';
import { createParam, type Layer, type LayerContext, type Param } from '../src/layers/layer.js';
import { SoftmaxCrossEntropy } from '../src/losses/softmaxCrossEntropy.js';
import { Adagrad } from '../src/optim/adagrad.js';
import { Adam } from '../src/optim/adam.js';
import type { NamedParam, Optimizer } from '../src/optim/optimizer.js';
import { createOptimizer } from '../src/optim/registry.js';
import { Rmsprop } from '../src/optim/rmsprop.js';
import { Sgd } from '../src/optim/sgd.js';
import { jsKernels } from '../src/tensor/kernels.js';
import type { DType } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';

// ---------------------------------------------------------------------------------------
// Acceptance 1: three steps on f(w) = ½(a·w1² + b·w2²), a = 1, b = 4, worked out by hand.
// ∇f = (a·w1, b·w2) = (w1, 4·w2). Every run starts at w = (1, −2), so g_1 = (1, −8).
// Values below ~1e−9 that come from ε are kept: the expected numbers were carried to
// 20 digits (exact decimal arithmetic, square roots to 50 digits) and compared to 13.
// ---------------------------------------------------------------------------------------

/** Run `steps` steps of `make`'s optimiser on the quadratic; the iterates after each step. */
function quadratic(make: (params: NamedParam[]) => Optimizer, lr: number, steps = 3) {
  const w = createParam('weight', [2], 'float64', true);
  w.value.set([1, -2]);
  const optimizer = make([{ key: 'quad/weight', param: w }]);
  const iterates: number[][] = [];
  for (let t = 0; t < steps; t++) {
    w.grad[0] = 1 * w.value[0]!;
    w.grad[1] = 4 * w.value[1]!;
    optimizer.step(lr);
    iterates.push(Array.from(w.value));
  }
  return { optimizer, iterates };
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], digits = 13): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits);
}

function slot(optimizer: Optimizer, name: string, key = 'quad/weight') {
  const buffer = optimizer.slots().get(name)?.get(key);
  if (!buffer) throw new Error(`no slot ${name}/${key}`);
  return buffer;
}

describe('three steps on a quadratic, by hand', () => {
  it('sgd, plain: w −= η·g', () => {
    // η = 0.1, so each step multiplies w1 by 1 − 0.1·1 = 0.9 and w2 by 1 − 0.1·4 = 0.6.
    const { optimizer, iterates } = quadratic((p) => new Sgd(p, { momentum: 0, nesterov: false }), 0.1);
    expectClose(iterates[0]!, [0.9, -1.2]);
    expectClose(iterates[1]!, [0.81, -0.72]);
    expectClose(iterates[2]!, [0.729, -0.432]);
    expect(optimizer.slots().size).toBe(0); // no velocity without momentum
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });

  it('sgd, momentum: Δw = γΔw + ηg, w −= Δw', () => {
    // γ = 0.9, η = 0.1.
    const { optimizer, iterates } = quadratic((p) => new Sgd(p, { momentum: 0.9, nesterov: false }), 0.1);
    // t=1: g = (1, −8);      Δw = (0.1, −0.8);                          w = (0.9, −1.2)
    expectClose(iterates[0]!, [0.9, -1.2]);
    // t=2: g = (0.9, −4.8);  Δw = 0.9·(0.1, −0.8) + (0.09, −0.48) = (0.18, −1.2);  w = (0.72, 0)
    expectClose(iterates[1]!, [0.72, 0]);
    // t=3: g = (0.72, 0);    Δw = 0.9·(0.18, −1.2) + (0.072, 0) = (0.234, −1.08); w = (0.486, 1.08)
    // w2 overshoots past 0: the velocity carries on after the gradient has vanished.
    expectClose(iterates[2]!, [0.486, 1.08]);
    expectClose(slot(optimizer, 'velocity'), [0.234, -1.08]);
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });

  it('sgd, nesterov: Δw = γΔw + ηg, w −= γΔw + ηg', () => {
    // γ = 0.9, η = 0.1.
    const { iterates } = quadratic((p) => new Sgd(p, { momentum: 0.9, nesterov: true }), 0.1);
    // t=1: g = (1, −8), ηg = (0.1, −0.8); Δw = (0.1, −0.8);
    //      w −= (0.09 + 0.1, −0.72 − 0.8) = (0.19, −1.52)                    → w = (0.81, −0.48)
    expectClose(iterates[0]!, [0.81, -0.48]);
    // t=2: g = (0.81, −1.92), ηg = (0.081, −0.192); Δw = (0.09 + 0.081, −0.72 − 0.192) = (0.171, −0.912);
    //      w −= (0.1539 + 0.081, −0.8208 − 0.192) = (0.2349, −1.0128)        → w = (0.5751, 0.5328)
    expectClose(iterates[1]!, [0.5751, 0.5328]);
    // t=3: g = (0.5751, 2.1312), ηg = (0.05751, 0.21312);
    //      Δw = (0.1539 + 0.05751, −0.8208 + 0.21312) = (0.21141, −0.60768);
    //      w −= (0.190269 + 0.05751, −0.546912 + 0.21312) = (0.247779, −0.333792) → w = (0.327321, 0.866592)
    expectClose(iterates[2]!, [0.327321, 0.866592]);
  });

  it('adagrad: G += g², w −= η·g/(√G + ε)', () => {
    // η = 0.1, ε = 1e−10. Adagrad divides each coordinate by its own gradient scale, so the
    // curvatures a and b nearly cancel: both coordinates first move by η.
    const { optimizer, iterates } = quadratic((p) => new Adagrad(p, { eps: 1e-10 }), 0.1);
    // t=1: g = (1, −8); G = (1, 64); √G = (1, 8);
    //      w −= 0.1·(1/(1 + 1e−10), −8/(8 + 1e−10)) = (0.1 − 1e−11, −0.1 + 1.25e−12)
    expectClose(iterates[0]!, [0.90000000001, -1.90000000000125]);
    // t=2: g = (0.90000000001, −7.600000000005); G = (1.81000000002, 121.76000000008);
    //      √G = (1.3453624047…, 11.034491379…); w −= 0.1·g/(√G + ε) = (0.0668965…, −0.0688749…)
    expectClose(iterates[1]!, [0.83310352685231675, -1.8311250538103811]);
    // t=3: g = (0.83310352685…, −7.3245002152…); G = (2.5040614865…, 175.40830340…);
    //      √G = (1.5824226637…, 13.244179982…); w −= (0.0526473455…, −0.0553035388…)
    expectClose(iterates[2]!, [0.78045618136551622, -1.775821515010822]);
    expectClose(slot(optimizer, 'cache'), [2.5040614864717689, 175.40830340314913], 12);
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });

  it('rmsprop: v = δv + (1 − δ)g², w −= η·g/(√v + ε)', () => {
    // η = 0.01, δ = 0.9, ε = 1e−8.
    const { optimizer, iterates } = quadratic((p) => new Rmsprop(p, { decay: 0.9, eps: 1e-8 }), 0.01);
    // t=1: g = (1, −8); v = 0.1·g² = (0.1, 6.4); √v = (0.316227766…, 2.529822128…);
    //      w −= 0.01·g/√v = 0.01·√10·(1, −1) = (0.0316227766…, −0.0316227766…)  (less ε's share)
    expectClose(iterates[0]!, [0.96837722439831618, -1.9683772235233162]);
    // t=2: g = (0.9683772244…, −7.873508894…); v = 0.9·v + 0.1·g² = (0.1837754449…, 11.95921423…);
    //      √v = (0.4286903835…, 3.458209686…); w −= (0.0225891982…, −0.0227675867…)
    expectClose(iterates[1]!, [0.94578802624585683, -1.9456096368619424]);
    // t=3: g = (0.9457880262…, −7.782438547…); v = (0.2548493994…, 16.81992778…);
    //      √v = (0.5048261081…, 4.101210526…); w −= (0.0187349266…, −0.0189759547…)
    expectClose(iterates[2]!, [0.92705309965850114, -1.9266336821326007]);
    expectClose(slot(optimizer, 'cache'), [0.25484939944500817, 16.819927781963012]);
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });

  it('adam: bias-corrected moments, w −= η·m̂/(√v̂ + ε)', () => {
    // η = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e−8.
    const { optimizer, iterates } = quadratic((p) => new Adam(p, { beta1: 0.9, beta2: 0.999, eps: 1e-8 }), 0.1);
    // t=1: g = (1, −8); m = 0.1·g = (0.1, −0.8); v = 0.001·g² = (0.001, 0.064);
    //      m̂ = m/(1 − 0.9) = (1, −8); v̂ = v/(1 − 0.999) = (1, 64): the corrections recover g and g².
    //      w −= 0.1·(1/(1 + 1e−8), −8/(8 + 1e−8)) = (0.1 − 1e−9, −0.1 + 1.25e−10)
    expectClose(iterates[0]!, [0.90000000099999999, -1.900000000125]);
    // t=2: g = (0.900000001, −7.6000000005); m = 0.9·m + 0.1·g = (0.1800000001, −1.48000000005);
    //      v = 0.999·v + 0.001·g² = (0.0018090000018, 0.1216960000076);
    //      1 − β1² = 0.19, 1 − β2² = 0.001999; m̂ = (0.9473684216…, −7.789473684…);
    //      v̂ = (0.9049524771…, 60.87843922…); √v̂ = (0.9512899017…, 7.802463664…);
    //      w −= 0.1·m̂/(√v̂ + ε) = (0.0995877703…, −0.0998335143…)
    expectClose(iterates[1]!, [0.80041222971233739, -1.8001664858630046]);
    // t=3: g = (0.8004122297…, −7.200665943…); m = (0.2420412231…, −2.052066594…);
    //      v = (0.002447850739…, 0.1734238940…); 1 − β1³ = 0.271, 1 − β2³ = 0.002997001;
    //      m̂ = (0.8931410445…, −7.572201455…); v̂ = (0.8167667409…, 57.86581120…);
    //      √v̂ = (0.9037514818…, 7.606958078…); w −= (0.0988259552…, −0.0995430942…)
    expectClose(iterates[2]!, [0.70158627450441421, -1.7006233916636401]);
    expectClose(slot(optimizer, 'm'), [0.24204122306123374, -2.0520665943902018]);
    expectClose(slot(optimizer, 'v'), [0.0024478507392712755, 0.17342389403678215], 15);
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });
});

// ---------------------------------------------------------------------------------------
// A small network: dense 3→4, tanh, dense 4→2, softmax cross-entropy; one fixed batch of
// five samples, float64. Shared by the PyTorch comparison and the resume test.
// ---------------------------------------------------------------------------------------

const N = 5;
const SEED = 20240601;
/** Parameter keys in the order the optimiser sees them (and PyTorch's params list). */
const KEYS = ['dense_1/weight', 'dense_1/bias', 'dense_2/weight', 'dense_2/bias'] as const;

function layerContext(name: string, inputShape: number[], dtype: DType): LayerContext {
  return { name, inputShape, dtype, kernels: jsKernels, rng: Rng.derive(SEED, name), noise: Rng.derive(SEED, 'noise') };
}

interface Net {
  layers: Layer[];
  loss: SoftmaxCrossEntropy;
  params: NamedParam[];
}

function buildNet(dtype: DType = 'float64'): Net {
  // Non-zero biases so that their updates are exercised from the first step.
  const biasInit = { type: 'gaussian', std: 0.1 } as const;
  const layers: Layer[] = [
    new Dense({ units: 4, init: { type: 'xavier' }, bias_init: biasInit }, layerContext('dense_1', [3], dtype)),
    new Tanh(layerContext('tanh_1', [4], dtype)),
    new Dense({ units: 2, init: { type: 'xavier' }, bias_init: biasInit }, layerContext('dense_2', [4], dtype)),
  ];
  const params: NamedParam[] = [];
  for (const layer of layers) for (const param of layer.params) params.push({ key: `${layer.name}/${param.name}`, param });
  expect(params.map((p) => p.key)).toEqual(KEYS);
  return { layers, loss: new SoftmaxCrossEntropy(2, dtype), params };
}

function batch(): { x: Float64Array; labels: Int32Array } {
  const rng = Rng.derive(SEED, 'batch');
  const x = new Float64Array(N * 3);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  return { x, labels: Int32Array.from([0, 1, 1, 0, 1]) };
}

/** One training step: zero the grads, forward, backward, update. Returns the loss. */
function trainStep(net: Net, optimizer: Optimizer, lr: number, x: Float64Array, labels: Int32Array): number {
  for (const { param } of net.params) param.grad.fill(0);
  let h: Float64Array | Float32Array = x;
  for (const layer of net.layers) h = layer.forward(h, N, true);
  const loss = net.loss.forward(h, labels, N);
  let d = net.loss.backward();
  for (let i = net.layers.length - 1; i >= 0; i--) d = net.layers[i]!.backward(d, N, i > 0);
  optimizer.step(lr);
  return loss;
}

function flatParams(net: Net): number[] {
  return net.params.flatMap(({ param }) => Array.from(param.value));
}

/** Every optimiser, with the learning rate it runs at (constant: see the SGD note below). */
const CASES: { name: string; spec: OptimizerSpec }[] = [
  { name: 'sgd', spec: { type: 'sgd', lr: 0.5, momentum: 0, nesterov: false } },
  { name: 'sgd momentum', spec: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false } },
  { name: 'sgd nesterov', spec: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true } },
  { name: 'adagrad', spec: { type: 'adagrad', lr: 0.1, eps: 1e-10 } },
  { name: 'rmsprop', spec: { type: 'rmsprop', lr: 0.01, decay: 0.9, eps: 1e-8 } },
  { name: 'adam', spec: { type: 'adam', lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 } },
];
const STEPS = 20;

// ---------------------------------------------------------------------------------------
// Acceptance 2: twenty steps match torch.optim to 1e−10 relative.
// ---------------------------------------------------------------------------------------

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch) {
  console.warn(`optimizers.test: skipping the PyTorch comparison: '${PYTHON} -c "import torch"' failed (install python3-torch).`);
}

/**
 * Reads the network, batch and optimiser specs from argv[1]; prints, per case, the
 * parameters after each step (flattened in KEYS order) and the optimiser's final state.
 *
 * SGD momentum: PyTorch keeps b = γb + g and steps w −= η·b; dlt's velocity is Δw = η·b
 * while η is constant. Nesterov: PyTorch steps w −= η·(g + γ·b) with the updated b, which
 * is dlt's w −= γΔw + ηg under the same substitution.
 */
const TORCH_SCRIPT = String.raw`
import json, sys
import torch
torch.set_default_dtype(torch.float64)
data = json.load(open(sys.argv[1]))
x = torch.tensor(data['x']).reshape(-1, 3)
y = torch.tensor(data['labels'], dtype=torch.long)

def make(spec, ps):
    k, lr = spec['type'], spec['lr']
    if k == 'sgd':
        return torch.optim.SGD(ps, lr=lr, momentum=spec['momentum'], nesterov=spec['nesterov'])
    if k == 'adagrad':
        return torch.optim.Adagrad(ps, lr=lr, lr_decay=0, initial_accumulator_value=0, eps=spec['eps'])
    if k == 'rmsprop':
        return torch.optim.RMSprop(ps, lr=lr, alpha=spec['decay'], eps=spec['eps'])
    if k == 'adam':
        return torch.optim.Adam(ps, lr=lr, betas=(spec['beta1'], spec['beta2']), eps=spec['eps'])
    raise ValueError(k)

def flat(ts):
    return [v for t in ts for v in t.detach().reshape(-1).tolist()]

out = []
for case in data['cases']:
    w1 = torch.tensor(data['params'][0]).reshape(4, 3).requires_grad_()
    b1 = torch.tensor(data['params'][1]).requires_grad_()
    w2 = torch.tensor(data['params'][2]).reshape(2, 4).requires_grad_()
    b2 = torch.tensor(data['params'][3]).requires_grad_()
    ps = [w1, b1, w2, b2]
    opt = make(case['spec'], ps)
    trajectory = []
    for _ in range(data['steps']):
        opt.zero_grad()
        scores = torch.tanh(x @ w1.T + b1) @ w2.T + b2
        torch.nn.functional.cross_entropy(scores, y).backward()
        opt.step()
        trajectory.append(flat(ps))
    state = {}
    for p in ps:
        for name, value in opt.state[p].items():
            if name == 'step':
                state['step'] = float(value)
            elif value is not None:  # plain SGD stores momentum_buffer = None
                state.setdefault(name, []).extend(value.reshape(-1).tolist())
    out.append({'trajectory': trajectory, 'state': state})
print(json.dumps(out))
`;

interface TorchRun {
  trajectory: number[][];
  state: Record<string, number | number[]>;
}

/** max over entries of |a − b| / max(|a|, |b|), 0 where both are 0. */
function maxRelativeError(actual: readonly number[], expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    const scale = Math.max(Math.abs(a), Math.abs(b));
    if (scale > 0) worst = Math.max(worst, Math.abs(a - b) / scale);
  }
  return worst;
}

/** One optimiser slot over all parameters, flattened in KEYS order. */
function flatSlot(optimizer: Optimizer, name: string): number[] {
  const buffers = optimizer.slots().get(name);
  if (!buffers) throw new Error(`${optimizer.type} has no slot '${name}'`);
  return KEYS.flatMap((key) => Array.from(buffers.get(key)!));
}

describe('twenty steps on a small network match torch.optim', () => {
  let dir = '';
  let torchRuns: TorchRun[] = [];

  beforeAll(() => {
    if (!hasTorch) return;
    dir = mkdtempSync(path.join(tmpdir(), 'dlt-optim-'));
    const net = buildNet();
    const { x, labels } = batch();
    const input = path.join(dir, 'input.json');
    writeFileSync(
      input,
      JSON.stringify({
        x: Array.from(x),
        labels: Array.from(labels),
        params: net.params.map(({ param }) => Array.from(param.value)),
        steps: STEPS,
        cases: CASES,
      }),
    );
    const r = spawnSync(PYTHON, ['-c', TORCH_SCRIPT, input], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`the PyTorch script failed (exit ${r.status}):\n${r.stderr}`);
    torchRuns = JSON.parse(r.stdout) as TorchRun[];
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  CASES.forEach(({ name, spec }, c) => {
    it.skipIf(!hasTorch)(`${name}: parameters after each of ${STEPS} steps, and the final state`, () => {
      const torchRun = torchRuns[c]!;
      const net = buildNet();
      const { x, labels } = batch();
      const optimizer = createOptimizer(spec, net.params);
      for (let t = 0; t < STEPS; t++) {
        trainStep(net, optimizer, spec.lr, x, labels);
        const error = maxRelativeError(flatParams(net), torchRun.trajectory[t]!);
        expect(error, `${name}, step ${t + 1}`).toBeLessThanOrEqual(1e-10);
      }
      // The run must actually move: a trajectory that stood still would match trivially.
      expect(maxRelativeError(flatParams(buildNet()), torchRun.trajectory[STEPS - 1]!)).toBeGreaterThan(1e-3);

      const state = torchRun.state;
      switch (spec.type) {
        case 'sgd':
          if (spec.momentum > 0) {
            // dlt's velocity carries η: Δw = η·b.
            const buffer = (state.momentum_buffer as number[]).map((b) => spec.lr * b);
            expect(maxRelativeError(flatSlot(optimizer, 'velocity'), buffer)).toBeLessThanOrEqual(1e-10);
          } else {
            expect(optimizer.slots().size).toBe(0);
          }
          break;
        case 'adagrad':
          expect(maxRelativeError(flatSlot(optimizer, 'cache'), state.sum as number[])).toBeLessThanOrEqual(1e-10);
          expect(optimizer.toState().steps).toBe(state.step);
          break;
        case 'rmsprop':
          expect(maxRelativeError(flatSlot(optimizer, 'cache'), state.square_avg as number[])).toBeLessThanOrEqual(1e-10);
          expect(optimizer.toState().steps).toBe(state.step);
          break;
        case 'adam':
          expect(maxRelativeError(flatSlot(optimizer, 'm'), state.exp_avg as number[])).toBeLessThanOrEqual(1e-10);
          expect(maxRelativeError(flatSlot(optimizer, 'v'), state.exp_avg_sq as number[])).toBeLessThanOrEqual(1e-10);
          expect(optimizer.toState()).toEqual({ steps: state.step });
          break;
      }
    });
  });
});

// ---------------------------------------------------------------------------------------
// Resume: slots() + toState() are all an optimiser needs to carry on bit for bit.
// ---------------------------------------------------------------------------------------

/** A fresh network and optimiser holding `from`'s parameters, slot buffers and state. */
function restore(from: { net: Net; optimizer: Optimizer }, spec: OptimizerSpec, withState = true) {
  const net = buildNet();
  net.params.forEach(({ param }, i) => param.value.set(from.net.params[i]!.param.value));
  const optimizer = createOptimizer(spec, net.params);
  const target = optimizer.slots();
  expect([...target.keys()]).toEqual([...from.optimizer.slots().keys()]);
  for (const [slotName, buffers] of from.optimizer.slots()) {
    for (const [key, buffer] of buffers) target.get(slotName)!.get(key)!.set(buffer);
  }
  if (withState) optimizer.fromState(from.optimizer.toState());
  return { net, optimizer };
}

function sameBits(a: { net: Net; optimizer: Optimizer }, b: { net: Net; optimizer: Optimizer }): void {
  a.net.params.forEach(({ key, param }, i) => {
    expect(Array.from(b.net.params[i]!.param.value), key).toEqual(Array.from(param.value));
  });
  for (const [slotName, buffers] of a.optimizer.slots()) {
    for (const [key, buffer] of buffers) {
      expect(Array.from(b.optimizer.slots().get(slotName)!.get(key)!), `${slotName} ${key}`).toEqual(Array.from(buffer));
    }
  }
  expect(b.optimizer.toState()).toEqual(a.optimizer.toState());
}

describe('resume from slots() and toState()', () => {
  it.each(CASES)('$name: 10 steps, copy into a fresh optimiser, 10 more on both: bit-identical', ({ spec }) => {
    const { x, labels } = batch();
    const net = buildNet();
    const original = { net, optimizer: createOptimizer(spec, net.params) };
    for (let t = 0; t < 10; t++) trainStep(original.net, original.optimizer, spec.lr, x, labels);
    const resumed = restore(original, spec);
    expect(resumed.optimizer.toState()).toEqual({ steps: 10 });
    for (let t = 0; t < 10; t++) {
      trainStep(original.net, original.optimizer, spec.lr, x, labels);
      trainStep(resumed.net, resumed.optimizer, spec.lr, x, labels);
    }
    sameBits(original, resumed);
  });

  it('adam: a resume that drops the step count diverges (bias correction restarts)', () => {
    const spec = CASES.find((c) => c.spec.type === 'adam')!.spec;
    const { x, labels } = batch();
    const net = buildNet();
    const original = { net, optimizer: createOptimizer(spec, net.params) };
    for (let t = 0; t < 10; t++) trainStep(original.net, original.optimizer, spec.lr, x, labels);
    const forgetful = restore(original, spec, false);
    trainStep(original.net, original.optimizer, spec.lr, x, labels);
    trainStep(forgetful.net, forgetful.optimizer, spec.lr, x, labels);
    expect(maxRelativeError(flatParams(forgetful.net), flatParams(original.net))).toBeGreaterThan(1e-6);
  });

  it('adam: fromState without a step count is an error', () => {
    const optimizer = new Adam([], { beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    expect(() => optimizer.fromState({})).toThrow(/step count/);
    expect(() => optimizer.fromState({ steps: 1.5 })).toThrow(/step count/);
  });
});

describe('state buffers', () => {
  it.each(CASES)("$name: slots take the parameters' dtype and length, keyed by parameter name", ({ spec }) => {
    const params: NamedParam[] = [
      { key: 'a/weight', param: createParam('weight', [2, 3], 'float32', true) },
      { key: 'a/bias', param: createParam('bias', [2], 'float32', false) },
    ];
    const optimizer = createOptimizer(spec, params);
    for (const [, buffers] of optimizer.slots()) {
      expect([...buffers.keys()]).toEqual(['a/weight', 'a/bias']);
      for (const { key, param } of params) {
        const buffer = buffers.get(key)!;
        expect(buffer).toBeInstanceOf(Float32Array);
        expect(buffer.length).toBe(param.value.length);
      }
    }
  });

  it('adaptive optimisers reject a parameter key that appears twice', () => {
    const p: Param = createParam('weight', [1], 'float64', true);
    const twice: NamedParam[] = [
      { key: 'dense_1/weight', param: p },
      { key: 'dense_1/weight', param: p },
    ];
    expect(() => new Adagrad(twice, { eps: 1e-10 })).toThrow(/appears twice/);
    expect(() => new Rmsprop(twice, { decay: 0.9, eps: 1e-8 })).toThrow(/appears twice/);
    expect(() => new Adam(twice, { beta1: 0.9, beta2: 0.999, eps: 1e-8 })).toThrow(/appears twice/);
  });
});
