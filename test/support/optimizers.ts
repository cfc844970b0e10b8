/**
 * What the optimiser tests (sgd, adagrad, rmsprop, adam) share: a quadratic to step on by
 * hand, a small network with one fixed batch, the same network in PyTorch to compare
 * trajectories with torch.optim, and the checks of resume and of slot buffers. They use
 * an optimiser only through its public surface: the constructor or createOptimizer,
 * step(lr), slots(), toState() and fromState().
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { OptimizerSpec } from '../../src/config/schema.js';
import { Tanh } from '../../src/layers/activations.js';
import { Dense } from '../../src/layers/dense.js';
import { createParam, type Layer, type LayerContext } from '../../src/layers/layer.js';
import { SoftmaxCrossEntropy } from '../../src/losses/softmaxCrossEntropy.js';
import type { NamedParam, Optimizer } from '../../src/optim/optimizer.js';
import { createOptimizer } from '../../src/optim/registry.js';
import { jsKernels } from '../../src/tensor/kernels.js';
import type { DType } from '../../src/tensor/types.js';
import { Rng } from '../../src/util/rng.js';

// ---------------------------------------------------------------------------------------
// Three steps on f(w) = ½(a·w1² + b·w2²), a = 1, b = 4, worked out by hand.
// ∇f = (a·w1, b·w2) = (w1, 4·w2). Every run starts at w = (1, −2), so g_1 = (1, −8).
// ---------------------------------------------------------------------------------------

/** Run `steps` steps of `make`'s optimiser on the quadratic; the iterates after each step. */
export function quadratic(make: (params: NamedParam[]) => Optimizer, lr: number, steps = 3) {
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

export function expectClose(actual: ArrayLike<number>, expected: readonly number[], digits = 13): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i]!, digits);
}

/** The optimiser's `name` buffer for one parameter (the quadratic's, by default). */
export function slot(optimizer: Optimizer, name: string, key = 'quad/weight') {
  const buffer = optimizer.slots().get(name)?.get(key);
  if (!buffer) throw new Error(`no slot ${name}/${key}`);
  return buffer;
}

// ---------------------------------------------------------------------------------------
// A small network: dense 3→4, tanh, dense 4→2, softmax cross-entropy; one fixed batch of
// five samples, float64. Shared by the PyTorch comparison and the resume test.
// ---------------------------------------------------------------------------------------

const N = 5;
const SEED = 20240601;
/** Parameter keys in the order the optimiser sees them (and PyTorch's params list). */
const KEYS = ['dense_1/weight', 'dense_1/bias', 'dense_2/weight', 'dense_2/bias'] as const;
/** Steps of the PyTorch comparison. */
export const STEPS = 20;

/** An optimiser under test, with the learning rate it runs at, and the slots it keeps. */
export interface OptimizerCase {
  name: string;
  spec: OptimizerSpec;
  slots: string[];
}

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

/** max over entries of |a − b| / max(|a|, |b|), 0 where both are 0. */
export function maxRelativeError(actual: readonly number[], expected: readonly number[]): number {
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

/** One optimiser slot over all parameters of the small network, flattened in KEYS order. */
export function flatSlot(optimizer: Optimizer, name: string): number[] {
  const buffers = optimizer.slots().get(name);
  if (!buffers) throw new Error(`the optimiser has no slot '${name}'`);
  return KEYS.flatMap((key) => Array.from(buffers.get(key)!));
}

// ---------------------------------------------------------------------------------------
// Twenty steps match torch.optim to 1e−10 relative.
// ---------------------------------------------------------------------------------------

const PYTHON = '/usr/bin/python3';
export const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/**
 * Reads the network, batch and optimiser specs from argv[1]; prints, per case, the
 * parameters after each step (flattened in KEYS order) and the optimiser's final state.
 *
 * SGD momentum: PyTorch keeps b = γb + g and steps w −= η·b; dlt's velocity is Δw = η·b
 * while η is constant. Nesterov: PyTorch steps w −= η·(g + γ·b) with the updated b, which
 * is dlt's w −= γΔw + ηg under the same substitution.
 */
const TORCH_SCRIPT = `
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

/** What PyTorch did for one case: the parameters after each step, and the optimiser's final state. */
export interface TorchRun {
  trajectory: number[][];
  state: Record<string, number | number[]>;
}

/**
 * Registers (in the calling describe block) a beforeAll that runs `cases` in PyTorch, once
 * for all of them, and an afterAll that cleans up. The runs are read through the returned
 * function, in the order of `cases`. Without PyTorch it warns and runs nothing.
 */
export function torchRuns(cases: readonly OptimizerCase[], testFile: string): (index: number) => TorchRun {
  let dir = '';
  let runs: TorchRun[] = [];
  if (!hasTorch) console.warn(`${testFile}: skipping the PyTorch comparison: '${PYTHON} -c "import torch"' failed (install python3-torch).`);
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
        cases,
      }),
    );
    const r = spawnSync(PYTHON, ['-c', TORCH_SCRIPT, input], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0) throw new Error(`the PyTorch script failed (exit ${r.status}):\n${r.stderr}`);
    runs = JSON.parse(r.stdout) as TorchRun[];
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return (index) => runs[index]!;
}

/**
 * Trains the small network for STEPS steps with `spec`, checking the parameters against
 * PyTorch's after every step (1e−10 relative) and that they moved; returns the optimiser
 * for the caller to compare its state.
 */
export function expectTorchTrajectory(name: string, spec: OptimizerSpec, torchRun: TorchRun): Optimizer {
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
  return optimizer;
}

// ---------------------------------------------------------------------------------------
// Resume: slots() + toState() are all an optimiser needs to carry on bit for bit.
// ---------------------------------------------------------------------------------------

interface Trained {
  net: Net;
  optimizer: Optimizer;
}

/** A fresh network and optimiser holding `from`'s parameters, slot buffers and (unless told not to) state. */
function restore(from: Trained, spec: OptimizerSpec, withState = true): Trained {
  const net = buildNet();
  for (const [i, { param }] of net.params.entries()) param.value.set(from.net.params[i]!.param.value);
  const optimizer = createOptimizer(spec, net.params);
  const target = optimizer.slots();
  expect([...target.keys()]).toEqual([...from.optimizer.slots().keys()]);
  for (const [slotName, buffers] of from.optimizer.slots()) {
    for (const [key, buffer] of buffers) target.get(slotName)!.get(key)!.set(buffer);
  }
  if (withState) optimizer.fromState(from.optimizer.toState());
  return { net, optimizer };
}

function expectSameBits(a: Trained, b: Trained): void {
  for (const [i, { key, param }] of a.net.params.entries()) {
    expect(Array.from(b.net.params[i]!.param.value), key).toEqual(Array.from(param.value));
  }
  for (const [slotName, buffers] of a.optimizer.slots()) {
    for (const [key, buffer] of buffers) {
      expect(Array.from(b.optimizer.slots().get(slotName)!.get(key)!), `${slotName} ${key}`).toEqual(Array.from(buffer));
    }
  }
  expect(b.optimizer.toState()).toEqual(a.optimizer.toState());
}

/** 10 steps, copy into a fresh optimiser (with its state unless `withState` is false), then `after` more steps on both. */
function trainAndResume(spec: OptimizerSpec, after: number, withState: boolean): { original: Trained; resumed: Trained } {
  const { x, labels } = batch();
  const net = buildNet();
  const original = { net, optimizer: createOptimizer(spec, net.params) };
  for (let t = 0; t < 10; t++) trainStep(original.net, original.optimizer, spec.lr, x, labels);
  const resumed = restore(original, spec, withState);
  if (withState) expect(resumed.optimizer.toState()).toEqual({ steps: 10 });
  for (let t = 0; t < after; t++) {
    trainStep(original.net, original.optimizer, spec.lr, x, labels);
    trainStep(resumed.net, resumed.optimizer, spec.lr, x, labels);
  }
  return { original, resumed };
}

/** 10 steps, copy into a fresh optimiser, 10 more on both: parameters, slots and state bit-identical. */
export function expectResumeBitIdentical(spec: OptimizerSpec): void {
  const { original, resumed } = trainAndResume(spec, 10, true);
  expectSameBits(original, resumed);
}

/** Largest relative difference of the parameters one step after a resume that dropped toState(). */
export function divergenceWithoutState(spec: OptimizerSpec): number {
  const { original, resumed } = trainAndResume(spec, 1, false);
  return maxRelativeError(flatParams(resumed.net), flatParams(original.net));
}

// ---------------------------------------------------------------------------------------
// Slot buffers: named as the optimiser documents them, and shaped like the parameters.
// ---------------------------------------------------------------------------------------

/** The case's slots, each keyed by parameter name, with the parameters' dtype (float32 here) and length. */
export function expectSlotsLikeParams({ spec, slots }: OptimizerCase): void {
  const params: NamedParam[] = [
    { key: 'a/weight', param: createParam('weight', [2, 3], 'float32', true) },
    { key: 'a/bias', param: createParam('bias', [2], 'float32', false) },
  ];
  const optimizer = createOptimizer(spec, params);
  expect([...optimizer.slots().keys()]).toEqual(slots);
  for (const [, buffers] of optimizer.slots()) {
    expect([...buffers.keys()]).toEqual(['a/weight', 'a/bias']);
    for (const { key, param } of params) {
      const buffer = buffers.get(key)!;
      expect(buffer).toBeInstanceOf(Float32Array);
      expect(buffer.length).toBe(param.value.length);
    }
  }
}
