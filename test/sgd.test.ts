import { describe, expect, it } from 'vitest';
import { createParam } from '../src/layers/layer.js';
import { Sgd } from '../src/optim/sgd.js';

function param(values: number[], grads: number[]) {
  const p = createParam('weight', [values.length], 'float64', true);
  p.value.set(values);
  p.grad.set(grads);
  return p;
}

describe('sgd', () => {
  it('plain: w −= lr·g', () => {
    const p = param([1, -2], [0.5, 4]);
    new Sgd([{ key: 'dense_1/weight', param: p }], { momentum: 0, nesterov: false }).step(0.1);
    // [1 − 0.05, −2 − 0.4]
    expect(Array.from(p.value)).toEqual([1 - 0.1 * 0.5, -2 - 0.1 * 4]);
  });

  it("momentum in the tutorial's form: Δw = γΔw + ηg, w −= Δw", () => {
    const p = param([1], [2]);
    const sgd = new Sgd([{ key: 'w', param: p }], { momentum: 0.9, nesterov: false });
    sgd.step(0.1); // Δw = 0.2, w = 0.8
    expect(p.value[0]).toBeCloseTo(0.8, 15);
    sgd.step(0.1); // Δw = 0.9·0.2 + 0.2 = 0.38, w = 0.42
    expect(p.value[0]).toBeCloseTo(0.42, 15);
    sgd.step(0.01); // Δw = 0.9·0.38 + 0.02 = 0.362, w = 0.058
    expect(p.value[0]).toBeCloseTo(0.058, 15);
    expect(sgd.slots().get('velocity')!.get('w')![0]).toBeCloseTo(0.362, 15);
    expect(sgd.toState()).toEqual({ steps: 3 });
  });

  it('nesterov: Δw = γΔw + ηg, w −= γΔw + ηg', () => {
    const p = param([1], [2]);
    const sgd = new Sgd([{ key: 'w', param: p }], { momentum: 0.5, nesterov: true });
    sgd.step(0.1); // Δw = 0.2; w = 1 − (0.1 + 0.2) = 0.7
    expect(p.value[0]).toBeCloseTo(0.7, 15);
    sgd.step(0.1); // Δw = 0.1 + 0.2 = 0.3; w = 0.7 − (0.15 + 0.2) = 0.35
    expect(p.value[0]).toBeCloseTo(0.35, 15);
  });
});
