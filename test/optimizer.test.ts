/**
 * What every optimiser shares (src/optim/optimizer.ts, OptimizerBase): one rule for
 * duplicate parameter names, and one for the state a snapshot restores — a whole step
 * count is required of every optimiser, parsed before any optimiser sees it.
 */
import { describe, expect, it } from 'vitest';
import { createParam } from '../src/layers/layer.js';
import { type NamedParam, optimizerStateSchema } from '../src/optim/optimizer.js';
import { createOptimizer } from '../src/optim/registry.js';

const specs = [
  { type: 'sgd', lr: 0.1, momentum: 0, nesterov: false },
  { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
  { type: 'adagrad', lr: 0.1, eps: 1e-10 },
  { type: 'rmsprop', lr: 0.1, decay: 0.9, eps: 1e-8 },
  { type: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
] as const;

describe('the state every optimiser keeps', () => {
  it('is a whole step count, required: the schema refuses a state without one before any optimiser sees it', () => {
    expect(optimizerStateSchema.safeParse({ steps: 3 }).success).toBe(true);
    for (const bad of [{}, { steps: 1.5 }, { steps: -1 }, { steps: 2, extra: 1 }, null])
      expect(optimizerStateSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  });

  it.each(specs)('$type (momentum $momentum): counts its steps and restores the count', (spec) => {
    const params: NamedParam[] = [{ key: 'dense_1/weight', param: createParam('weight', [2, 2], 'float64', true) }];
    const optimizer = createOptimizer(spec, params);
    optimizer.step(0.1);
    optimizer.step(0.1);
    expect(optimizer.toState()).toEqual({ steps: 2 });
    const restored = createOptimizer(spec, params);
    restored.fromState(optimizer.toState());
    expect(restored.toState()).toEqual({ steps: 2 });
  });

  it.each(specs)('$type: a parameter name given twice is a programming error', (spec) => {
    const param = createParam('weight', [1], 'float32', true);
    expect(() =>
      createOptimizer(spec, [
        { key: 'a/weight', param },
        { key: 'a/weight', param },
      ]),
    ).toThrow(/parameter key 'a\/weight' appears twice/);
  });
});
