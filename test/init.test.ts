import { describe, expect, it } from 'vitest';
import type { InitSpec } from '../src/config/schema.js';
import { initializer } from '../src/init/initializers.js';
import { Rng } from '../src/util/rng.js';

/** Empirical mean and (population) variance. */
function stats(a: Float64Array): { mean: number; variance: number } {
  let sum = 0;
  for (const v of a) sum += v;
  const mean = sum / a.length;
  let sq = 0;
  for (const v of a) sq += (v - mean) ** 2;
  return { mean, variance: sq / a.length };
}

describe('initialisers on a 1000×1000 weight (fan_in 1000)', () => {
  const fanIn = 1000;
  const cases: [string, InitSpec, number, number][] = [
    // [name, spec, expected mean, expected variance]
    ['gaussian std 0.01', { type: 'gaussian', std: 0.01 }, 0, 1e-4],
    ['uniform limit 0.05: variance limit²/3', { type: 'uniform', limit: 0.05 }, 0, 0.05 ** 2 / 3],
    ['xavier: variance 1/fan_in', { type: 'xavier' }, 0, 1 / fanIn],
    ['kaiming: variance 2/fan_in', { type: 'kaiming' }, 0, 2 / fanIn],
  ];
  for (const [name, spec, mean, variance] of cases) {
    it(name, () => {
      const w = new Float64Array(1000 * 1000);
      initializer(spec)(w, fanIn, Rng.derive(3, 'init'));
      const s = stats(w);
      // A zero mean is checked to 0.002 absolute; the variance to 2% of the formula.
      expect(Math.abs(s.mean - mean)).toBeLessThan(0.002);
      expect(Math.abs(s.variance / variance - 1)).toBeLessThan(0.02);
    });
  }

  it('zeros and constant fill exactly', () => {
    const w = new Float64Array(1000 * 1000).fill(7);
    initializer({ type: 'zeros' })(w, fanIn, Rng.derive(3, 'init'));
    expect(stats(w)).toEqual({ mean: 0, variance: 0 });
    initializer({ type: 'constant', value: 0.1 })(w, fanIn, Rng.derive(3, 'init'));
    expect(w.every((v) => v === 0.1)).toBe(true);
  });

  it('repeats from the seed', () => {
    const a = new Float64Array(100);
    const b = new Float64Array(100);
    initializer({ type: 'kaiming' })(a, 10, Rng.derive(5, 'init'));
    initializer({ type: 'kaiming' })(b, 10, Rng.derive(5, 'init'));
    expect(b).toEqual(a);
    initializer({ type: 'kaiming' })(b, 10, Rng.derive(6, 'init'));
    expect(b).not.toEqual(a);
  });
});
