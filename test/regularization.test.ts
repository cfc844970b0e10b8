import { describe, expect, it } from 'vitest';
import { createParam } from '../src/layers/layer.js';
import { Regularizer } from '../src/optim/regularization.js';

function params() {
  const w = createParam('weight', [3], 'float64', true);
  const b = createParam('bias', [2], 'float64', false);
  w.value.set([2, -1, 0]);
  b.value.set([3, -4]);
  return [
    { key: 'dense_1/weight', param: w },
    { key: 'dense_1/bias', param: b },
  ];
}

describe('regularization', () => {
  it('L2: penalty l2·Σw², gradient 2·l2·w, weights only by default', () => {
    const ps = params();
    const reg = new Regularizer({ l2: 0.5, l1: 0, regularize_bias: false }, ps);
    // 0.5 · (4 + 1 + 0) = 2.5
    expect(reg.penalty()).toBe(2.5);
    reg.addGradients();
    // 2 · 0.5 · [2, −1, 0] = [2, −1, 0]
    expect(Array.from(ps[0]!.param.grad)).toEqual([2, -1, 0]);
    expect(Array.from(ps[1]!.param.grad)).toEqual([0, 0]);
  });

  it('L1: penalty l1·Σ|w|, gradient l1·sign(w) with sign(0) = 0, and biases on request', () => {
    const ps = params();
    const reg = new Regularizer({ l2: 0, l1: 0.1, regularize_bias: true }, ps);
    // 0.1 · (2 + 1 + 0 + 3 + 4) = 1
    expect(reg.penalty()).toBeCloseTo(1, 15);
    reg.addGradients();
    expect(Array.from(ps[0]!.param.grad)).toEqual([0.1, -0.1, 0]);
    expect(Array.from(ps[1]!.param.grad)).toEqual([0.1, -0.1]);
  });

  it('adds to the existing gradient rather than replacing it', () => {
    const ps = params();
    ps[0]!.param.grad.set([1, 1, 1]);
    new Regularizer({ l2: 0.25, l1: 0, regularize_bias: false }, ps).addGradients();
    // 1 + 2 · 0.25 · [2, −1, 0] = [2, 0.5, 1]
    expect(Array.from(ps[0]!.param.grad)).toEqual([2, 0.5, 1]);
  });

  it('is inactive with both coefficients 0', () => {
    expect(new Regularizer({ l2: 0, l1: 0, regularize_bias: true }, params()).active).toBe(false);
  });
});
