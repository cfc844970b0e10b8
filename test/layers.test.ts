import { describe, expect, it } from 'vitest';
import { Relu, Sigmoid, Tanh } from '../src/layers/activations.js';
import { Dense } from '../src/layers/dense.js';
import { Flatten } from '../src/layers/flatten.js';
import type { LayerContext } from '../src/layers/layer.js';
import { SoftmaxCrossEntropy } from '../src/losses/softmaxCrossEntropy.js';
import { jsKernels } from '../src/tensor/kernels.js';
import type { DType } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';

function ctx(inputShape: number[], dtype: DType = 'float64', name = 'layer_1'): LayerContext {
  return { name, inputShape, dtype, kernels: jsKernels, rng: Rng.derive(1, 'test'), noise: Rng.derive(1, 'noise') };
}

const list = (a: ArrayLike<number>, n = a.length) => Array.from(a).slice(0, n);

describe('dense', () => {
  // W = [[1, 2, 3], [4, 5, 6]] (out 2, in 3), b = [0.5, -1]
  function layer(): Dense {
    const d = new Dense({ units: 2, init: { type: 'zeros' }, bias_init: { type: 'zeros' } }, ctx([3]));
    const [w, b] = d.params;
    w!.value.set([1, 2, 3, 4, 5, 6]);
    b!.value.set([0.5, -1]);
    return d;
  }

  it('forward computes x·Wᵀ + b', () => {
    // x = [[1, 0, -1], [2, 1, 0]]
    // row 0: [1·1 + 0·2 − 1·3 + 0.5, 1·4 + 0·5 − 1·6 − 1] = [−1.5, −3]
    // row 1: [2·1 + 1·2 + 0·3 + 0.5, 2·4 + 1·5 + 0·6 − 1] = [4.5, 12]
    const y = layer().forward(Float64Array.from([1, 0, -1, 2, 1, 0]), 2, true);
    expect(list(y, 4)).toEqual([-1.5, -3, 4.5, 12]);
  });

  it('backward gives dx = dy·W, dW = dyᵀ·x, db = Σ dy, and accumulates into grads', () => {
    const d = layer();
    const x = Float64Array.from([1, 0, -1, 2, 1, 0]);
    d.forward(x, 2, true);
    // dy = [[1, 0], [0, 2]]
    const dy = Float64Array.from([1, 0, 0, 2]);
    const dx = d.backward(dy, 2, true);
    // dx row 0 = 1·W[0] = [1, 2, 3]; row 1 = 2·W[1] = [8, 10, 12]
    expect(list(dx, 6)).toEqual([1, 2, 3, 8, 10, 12]);
    const [w, b] = d.params;
    // dW[0] = 1·x[0] + 0·x[1] = [1, 0, −1]; dW[1] = 0·x[0] + 2·x[1] = [4, 2, 0]
    expect(list(w!.grad)).toEqual([1, 0, -1, 4, 2, 0]);
    expect(list(b!.grad)).toEqual([1, 2]);
    // A second backward adds to the grads rather than replacing them.
    d.backward(dy, 2, true);
    expect(list(w!.grad)).toEqual([2, 0, -2, 8, 4, 0]);
    expect(list(b!.grad)).toEqual([2, 4]);
  });

  it('names its parameters weight [out, in] and bias [out]', () => {
    const [w, b] = layer().params;
    expect([w!.name, w!.shape, w!.isWeight]).toEqual(['weight', [2, 3], true]);
    expect([b!.name, b!.shape, b!.isWeight]).toEqual(['bias', [2], false]);
  });

  it('runs in float32 with float32 buffers', () => {
    const d = new Dense({ units: 2, init: { type: 'zeros' }, bias_init: { type: 'zeros' } }, ctx([3], 'float32'));
    d.params[0]!.value.set([1, 2, 3, 4, 5, 6]);
    const y = d.forward(Float32Array.from([0.1, 0.2, 0.3]), 1, true);
    expect(y).toBeInstanceOf(Float32Array);
    expect(y[0]).toBe(Math.fround(Math.fround(0.1) * 1 + Math.fround(0.2) * 2 + Math.fround(0.3) * 3));
  });
});

describe('activations', () => {
  const x = Float64Array.from([-2, -0.5, 0, 0.5, 2]);
  const dy = Float64Array.from([1, 2, 3, 4, 5]);

  it('relu: max(0, x), gradient passes where x > 0 only', () => {
    const r = new Relu(ctx([5]));
    expect(list(r.forward(x, 1, true), 5)).toEqual([0, 0, 0, 0.5, 2]);
    expect(list(r.backward(dy, 1, true), 5)).toEqual([0, 0, 0, 4, 5]);
  });

  it('sigmoid: 1/(1+e^−x), gradient y(1−y)', () => {
    const s = new Sigmoid(ctx([5]));
    const y = list(s.forward(x, 1, true), 5);
    const expected = [-2, -0.5, 0, 0.5, 2].map((v) => 1 / (1 + Math.exp(-v)));
    for (const [i, v] of y.entries()) expect(v).toBeCloseTo(expected[i]!, 15);
    expect(y[2]).toBe(0.5);
    const dx = list(s.backward(dy, 1, true), 5);
    // at x = 0: 3 · 0.5 · 0.5 = 0.75
    expect(dx[2]).toBe(0.75);
    for (const [i, v] of dx.entries()) expect(v).toBeCloseTo(dy[i]! * expected[i]! * (1 - expected[i]!), 15);
  });

  it('sigmoid does not overflow for large |x|', () => {
    const s = new Sigmoid(ctx([2]));
    expect(list(s.forward(Float64Array.from([-1000, 1000]), 1, true), 2)).toEqual([0, 1]);
  });

  it('tanh: gradient 1 − y²', () => {
    const t = new Tanh(ctx([5]));
    const y = list(t.forward(x, 1, true), 5);
    expect(y[2]).toBe(0);
    expect(y[4]).toBeCloseTo(0.9640275800758169, 15);
    const dx = list(t.backward(dy, 1, true), 5);
    // at x = 0: 3 · (1 − 0) = 3; at x = 2: 5 · (1 − tanh(2)²) = 5 · 0.0706508249 = 0.353254124
    expect(dx[2]).toBe(3);
    expect(dx[4]).toBeCloseTo(0.35325412426582, 12);
  });

  it('flatten keeps the data and reports [C·H·W]', () => {
    const f = new Flatten(ctx([2, 3, 4]));
    expect(f.outputShape).toEqual([24]);
    const data = Float64Array.from({ length: 24 }, (_, i) => i);
    expect(f.forward(data)).toBe(data);
    expect(f.backward(data)).toBe(data);
  });
});

describe('softmax cross-entropy', () => {
  it('matches −log softmax and p − onehot over n', () => {
    // scores [0, ln 2, ln 5] → e^f = [1, 2, 5], Σ = 8, p = [1/8, 2/8, 5/8]; label 2 → loss = −ln(5/8)
    const loss = new SoftmaxCrossEntropy(3, 'float64');
    const value = loss.forward(Float64Array.from([0, Math.log(2), Math.log(5)]), Int32Array.from([2]), 1);
    expect(value).toBeCloseTo(-Math.log(5 / 8), 14);
    const d = list(loss.backward(), 3);
    for (const [i, v] of [1 / 8, 2 / 8, 5 / 8 - 1].entries()) expect(d[i]).toBeCloseTo(v, 14);
  });

  it('averages over the batch', () => {
    // two samples of equal scores over 4 classes: loss ln 4 each; gradient (1/4 − [c = y]) / 2
    const loss = new SoftmaxCrossEntropy(4, 'float64');
    const value = loss.forward(new Float64Array(8), Int32Array.from([0, 3]), 2);
    expect(value).toBeCloseTo(Math.log(4), 14);
    expect(list(loss.backward(), 8)).toEqual([-0.375, 0.125, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375]);
  });

  it('stays finite and right for huge scores (tutorial: [1000, 995, 10, 10, 1])', () => {
    const loss = new SoftmaxCrossEntropy(5, 'float32');
    const scores = Float32Array.from([1000, 995, 10, 10, 1]);
    // After shifting by the max: [0, −5, −990, −990, −999]; Σe = 1 + e^−5 (the rest underflow)
    const expectedFor0 = Math.log(1 + Math.exp(-5));
    expect(loss.forward(scores, Int32Array.from([0]), 1)).toBeCloseTo(expectedFor0, 12);
    const p = list(loss.backward(), 5);
    expect(p[0]! + 1).toBeCloseTo(1 / (1 + Math.exp(-5)), 6); // ≈ 0.9933
    expect(p[1]).toBeCloseTo(Math.exp(-5) / (1 + Math.exp(-5)), 6); // ≈ 0.0067
    expect(p.slice(2)).toEqual([0, 0, 0]);
    // The loss of the runner-up class is 5 + log(1 + e^−5), not Infinity.
    expect(loss.forward(scores, Int32Array.from([1]), 1)).toBeCloseTo(5 + expectedFor0, 5);
    // And of a class 990 below: finite.
    expect(loss.forward(scores, Int32Array.from([2]), 1)).toBeCloseTo(990 + expectedFor0, 3);
  });
});
