import { describe, expect, it } from 'vitest';
import { Elu, LeakyRelu } from '../src/layers/activations.js';
import type { Layer, LayerContext } from '../src/layers/layer.js';
import { Prelu } from '../src/layers/prelu.js';
import { createLayer } from '../src/layers/registry.js';
import { jsKernels } from '../src/tensor/kernels.js';
import type { DType } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';

function ctx(inputShape: number[], dtype: DType = 'float64', name = 'layer_1'): LayerContext {
  return { name, inputShape, dtype, kernels: jsKernels, rng: Rng.derive(1, 'init'), noise: Rng.derive(1, 'dropout') };
}

const list = (a: ArrayLike<number>, n = a.length) => Array.from(a).slice(0, n);

/** Uniform in ±[min, max]: random signs, magnitudes kept away from the kink at 0. */
function awayFromZero(rng: Rng, count: number, min = 0.1, max = 2): Float64Array {
  return Float64Array.from({ length: count }, () => {
    const magnitude = min + (max - min) * rng.nextFloat();
    return rng.nextFloat() < 0.5 ? -magnitude : magnitude;
  });
}

function relativeError(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Centred differences (δ = 1e-6, float64) against backward, for the objective
 * L = Σ w ⊙ y with random w: dL/dy = w, so backward(w) must give dL/dx and add dL/dparam.
 * The numerical derivative is Σ w ⊙ (y(+δ) − y(−δ)) / 2δ, contracting after subtracting
 * so that rounding in the sum over all outputs does not swamp the difference.
 */
function gradcheck(layer: Layer, x: Float64Array, n: number, seed = 3): number {
  const delta = 1e-6;
  const rng = Rng.derive(seed, 'gradcheck');
  const outSize = n * layer.outputShape.reduce((a, b) => a * b, 1);
  const w = awayFromZero(rng, outSize, 0.5, 1.5);
  const run = (input: Float64Array) => Float64Array.from(layer.forward(input, n, true).subarray(0, outSize));
  const directional = (plus: Float64Array, minus: Float64Array) => {
    let s = 0;
    for (let i = 0; i < outSize; i++) s += w[i]! * (plus[i]! - minus[i]!);
    return s / (2 * delta);
  };

  for (const p of layer.params) p.grad.fill(0);
  run(x);
  const dx = Float64Array.from(layer.backward(w, n, true).subarray(0, x.length));
  const dparams = layer.params.map((p) => Float64Array.from(p.grad));

  let worst = 0;
  for (let j = 0; j < x.length; j++) {
    const xp = Float64Array.from(x);
    xp[j] = x[j]! + delta;
    const plus = run(xp);
    xp[j] = x[j]! - delta;
    const minus = run(xp);
    worst = Math.max(worst, relativeError(dx[j]!, directional(plus, minus)));
  }
  layer.params.forEach((p, k) => {
    for (let j = 0; j < p.value.length; j++) {
      const v = p.value[j]!;
      p.value[j] = v + delta;
      const plus = run(x);
      p.value[j] = v - delta;
      const minus = run(x);
      p.value[j] = v;
      worst = Math.max(worst, relativeError(dparams[k]![j]!, directional(plus, minus)));
    }
  });
  return worst;
}

const x = Float64Array.from([-2, -0.5, 0, 0.5, 2]);
const dy = Float64Array.from([1, 2, 3, 4, 5]);

describe('leaky_relu', () => {
  it('forward max(αx, x); backward slope 1 for x > 0, α for x ≤ 0 (including 0)', () => {
    const l: Layer = new LeakyRelu(ctx([5]), 0.1);
    // 0.1 · [−2, −0.5] = [−0.2, −0.05]; 0 stays 0
    expect(list(l.forward(x, 1, true), 5)).toEqual([-0.2, -0.05, 0, 0.5, 2]);
    // [1·0.1, 2·0.1, 3·0.1 (x = 0 takes the x ≤ 0 branch), 4, 5]
    const dx = list(l.backward(dy, 1, true), 5);
    for (const [i, v] of [0.1, 0.2, 0.3, 4, 5].entries()) expect(dx[i]).toBeCloseTo(v, 15);
  });

  it('α = 0 behaves as relu', () => {
    const l: Layer = new LeakyRelu(ctx([5]), 0);
    expect(list(l.forward(x, 1, true), 5).map((v) => v + 0)).toEqual([0, 0, 0, 0.5, 2]);
    expect(list(l.backward(dy, 1, true), 5).map((v) => v + 0)).toEqual([0, 0, 0, 4, 5]);
  });

  it('is built by the registry with its alpha', () => {
    const l = createLayer({ type: 'leaky_relu', alpha: 0.2 }, ctx([2]));
    expect(l.type).toBe('leaky_relu');
    expect(list(l.forward(Float64Array.from([-1, 1]), 1, true), 2)).toEqual([-0.2, 1]);
  });

  it('passes a numerical gradient check', () => {
    const input = awayFromZero(Rng.derive(11, 'x'), 3 * 4);
    expect(gradcheck(new LeakyRelu(ctx([4]), 0.2), input, 3)).toBeLessThan(1e-7);
  });
});

describe('elu', () => {
  // e^−2 = 0.1353352832366127, e^−0.5 = 0.6065306597126334
  it('forward x or α(eˣ − 1); backward 1 or y + α = αeˣ (α at x = 0)', () => {
    const l: Layer = new Elu(ctx([5]), 1);
    const y = list(l.forward(x, 1, true), 5);
    for (const [i, v] of [0.1353352832366127 - 1, 0.6065306597126334 - 1, 0, 0.5, 2].entries()) expect(y[i]).toBeCloseTo(v, 15);
    const dx = list(l.backward(dy, 1, true), 5);
    // [1·e^−2, 2·e^−0.5, 3·α, 4, 5]
    for (const [i, v] of [0.1353352832366127, 1.2130613194252668, 3, 4, 5].entries()) expect(dx[i]).toBeCloseTo(v, 15);
  });

  it('scales the negative side by α (α = 2; slope at 0 is α, not 1)', () => {
    const l: Layer = new Elu(ctx([3]), 2);
    const y = list(l.forward(Float64Array.from([-0.5, 0, 1]), 1, true), 3);
    // 2(e^−0.5 − 1) = −0.7869386805747332
    expect(y[0]).toBeCloseTo(-0.7869386805747332, 15);
    expect(y.slice(1)).toEqual([0, 1]);
    const dx = list(l.backward(Float64Array.from([1, 1, 1]), 1, true), 3);
    // 2e^−0.5 = 1.2130613194252668; at 0: α = 2
    expect(dx[0]).toBeCloseTo(1.2130613194252668, 15);
    expect(dx.slice(1)).toEqual([2, 1]);
  });

  it('keeps precision for tiny |x| (expm1) and saturates at −α for very negative x', () => {
    const l: Layer = new Elu(ctx([2]), 1.5);
    const y = list(l.forward(Float64Array.from([-1e-12, -1000]), 1, true), 2);
    // expm1(−1e−12) = −1e−12 + 5e−25: exp(x) − 1 would be off by ~1e−16, a relative 1e−4
    expect(y[0]).toBeCloseTo(-1.5e-12, 23);
    expect(y[1]).toBe(-1.5);
    const dx = list(l.backward(Float64Array.from([1, 1]), 1, true), 2);
    expect(dx[0]).toBeCloseTo(1.5, 11);
    expect(dx[1]).toBe(0);
  });

  it('is built by the registry with its alpha', () => {
    const l = createLayer({ type: 'elu', alpha: 2 }, ctx([1]));
    expect(l.type).toBe('elu');
    expect(list(l.forward(Float64Array.from([-1000]), 1, true), 1)).toEqual([-2]);
  });

  it('passes a numerical gradient check', () => {
    const input = awayFromZero(Rng.derive(12, 'x'), 3 * 4);
    expect(gradcheck(new Elu(ctx([4]), 1.3), input, 3)).toBeLessThan(1e-7);
  });
});

describe('prelu', () => {
  // One [2, 2, 2] sample: channel 0 is x[0..3], channel 1 is x[4..7].
  const sample = Float64Array.from([1, -2, 0, -4, -1, 3, -0.5, 2]);
  const dySample = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

  it('has one alpha per channel, not a weight, filled with init', () => {
    const p: Layer = new Prelu({ init: 0.25, shared: false }, ctx([2, 2, 2]));
    expect(p.params.map((q) => [q.name, q.shape, q.isWeight, list(q.value)])).toEqual([['alpha', [2], false, [0.25, 0.25]]]);
    // vectors: one per unit
    expect(new Prelu({ init: 0.1, shared: false }, ctx([3])).params[0]!.shape).toEqual([3]);
    expect(new Prelu({ init: 0.1, shared: true }, ctx([2, 2, 2])).params[0]!.shape).toEqual([1]);
  });

  it('per channel: forward, dx, and dα that accumulates across backward calls', () => {
    const p: Layer = new Prelu({ init: 0, shared: false }, ctx([2, 2, 2]));
    p.params[0]!.value.set([0.25, 0.5]);
    // second sample: x = [−1, −1, 1, 1 | 2, −2, 0, 0], dy = 1 everywhere
    const xs = Float64Array.from([...sample, -1, -1, 1, 1, 2, -2, 0, 0]);
    const dys = Float64Array.from([...dySample, 1, 1, 1, 1, 1, 1, 1, 1]);
    // channel 0 slope 0.25, channel 1 slope 0.5
    expect(list(p.forward(xs, 2, true), 16)).toEqual([1, -0.5, 0, -1, -0.5, 3, -0.25, 2, -0.25, -0.25, 1, 1, 2, -1, 0, 0]);
    const dx = list(p.backward(dys, 2, true), 16);
    // sample 0: [1, 2·0.25, 3·0.25, 4·0.25 | 5·0.5, 6, 7·0.5, 8]; sample 1: [0.25, 0.25, 1, 1 | 1, 0.5, 0.5, 0.5]
    expect(dx).toEqual([1, 0.5, 0.75, 1, 2.5, 6, 3.5, 8, 0.25, 0.25, 1, 1, 1, 0.5, 0.5, 0.5]);
    // dα₀ = Σ_{x ≤ 0} dy·x = (2·−2 + 3·0 + 4·−4) + (1·−1 + 1·−1) = −20 − 2 = −22
    // dα₁ = (5·−1 + 7·−0.5) + (1·−2 + 1·0 + 1·0) = −8.5 − 2 = −10.5
    expect(list(p.params[0]!.grad)).toEqual([-22, -10.5]);
    p.backward(dys, 2, true);
    expect(list(p.params[0]!.grad)).toEqual([-44, -21]);
  });

  it('shared: one alpha for every channel', () => {
    const p: Layer = new Prelu({ init: 0.25, shared: true }, ctx([2, 2, 2]));
    expect(list(p.forward(sample, 1, true), 8)).toEqual([1, -0.5, 0, -1, -0.25, 3, -0.125, 2]);
    expect(list(p.backward(dySample, 1, true), 8)).toEqual([1, 0.5, 0.75, 1, 1.25, 6, 1.75, 8]);
    // dα = −20 + −8.5
    expect(list(p.params[0]!.grad)).toEqual([-28.5]);
    p.backward(dySample, 1, true);
    expect(list(p.params[0]!.grad)).toEqual([-57]);
  });

  it('vectors: one alpha per unit', () => {
    const p: Layer = new Prelu({ init: 0, shared: false }, ctx([3]));
    p.params[0]!.value.set([0.1, 0.2, 0.3]);
    // two samples [−1, −1, −1], [−2, 1, −3]
    const xs = Float64Array.from([-1, -1, -1, -2, 1, -3]);
    const y = list(p.forward(xs, 2, true), 6);
    for (const [i, v] of [-0.1, -0.2, -0.3, -0.2, 1, -0.9].entries()) expect(y[i]).toBeCloseTo(v, 15);
    p.backward(Float64Array.from([1, 1, 1, 1, 1, 1]), 2, true);
    // dα = [−1 − 2, −1, −1 − 3]
    expect(list(p.params[0]!.grad)).toEqual([-3, -1, -4]);
  });

  it('still accumulates dα when dx is not needed', () => {
    const p: Layer = new Prelu({ init: 0.25, shared: true }, ctx([2, 2, 2]));
    p.forward(sample, 1, true);
    p.backward(dySample, 1, false);
    expect(list(p.params[0]!.grad)).toEqual([-28.5]);
  });

  it('is built by the registry', () => {
    const p = createLayer({ type: 'prelu', init: 0.5, shared: false }, ctx([3, 1, 1]));
    expect(p.type).toBe('prelu');
    expect(list(p.params[0]!.value)).toEqual([0.5, 0.5, 0.5]);
  });

  it('passes a numerical gradient check per channel and shared (x and α)', () => {
    const input = awayFromZero(Rng.derive(13, 'x'), 3 * 2 * 2 * 3);
    const perChannel = new Prelu({ init: 0, shared: false }, ctx([2, 2, 3]));
    perChannel.params[0]!.value.set([0.3, -0.2]);
    expect(gradcheck(perChannel, input, 3)).toBeLessThan(1e-7);
    const shared = new Prelu({ init: 0.25, shared: true }, ctx([2, 2, 3]));
    expect(gradcheck(shared, input, 3)).toBeLessThan(1e-7);
    const vector = new Prelu({ init: 0.25, shared: false }, ctx([4]));
    expect(gradcheck(vector, awayFromZero(Rng.derive(14, 'x'), 2 * 4), 2)).toBeLessThan(1e-7);
  });
});
