import { describe, expect, it } from 'vitest';
import { Absolute } from '../src/losses/absolute.js';
import type { Loss } from '../src/losses/loss.js';
import { MulticlassHinge } from '../src/losses/multiclassHinge.js';
import { createLoss } from '../src/losses/registry.js';
import { Squared } from '../src/losses/squared.js';
import { Rng } from '../src/util/rng.js';

const list = (a: ArrayLike<number>, n = a.length) => Array.from(a).slice(0, n);
const f64 = (...v: number[]) => Float64Array.from(v);
const labels = (...v: number[]) => Int32Array.from(v);

function relativeError(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b));
}

/** Worst relative error of backward against centred differences (δ = 1e-6, float64) of the mean loss. */
function gradcheck(loss: Loss, scores: Float64Array, y: Int32Array, n: number): number {
  const delta = 1e-6;
  loss.forward(scores, y, n);
  const analytic = Float64Array.from(loss.backward().subarray(0, scores.length));
  let worst = 0;
  for (let j = 0; j < scores.length; j++) {
    const s = Float64Array.from(scores);
    s[j] = scores[j]! + delta;
    const plus = loss.forward(s, y, n);
    s[j] = scores[j]! - delta;
    const minus = loss.forward(s, y, n);
    worst = Math.max(worst, relativeError(analytic[j]!, (plus - minus) / (2 * delta)));
  }
  return worst;
}

/** n random labels and [n × C] scores in [−2, 2], each row redrawn until `accept` holds. */
function randomBatch(seed: number, n: number, C: number, accept: (row: number[], label: number) => boolean) {
  const rng = Rng.derive(seed, 'scores');
  const y = Int32Array.from({ length: n }, () => rng.nextInt(C));
  const scores = new Float64Array(n * C);
  for (let i = 0; i < n; i++) {
    let row: number[];
    do {
      row = Array.from({ length: C }, () => 4 * rng.nextFloat() - 2);
    } while (!accept(row, y[i]!));
    scores.set(row, i * C);
  }
  return { scores, y };
}

/** Away from the one-hot target by at least 0.1 in every output (the kink of |·|). */
const awayFromTargets = (row: number[], label: number) => row.every((f, c) => Math.abs(f - (c === label ? 1 : 0)) >= 0.1);

describe('multiclass hinge', () => {
  it('penalises the strongest competitor; loss 0 once the margin is met', () => {
    const loss = new MulticlassHinge(3, 'float64');
    // sample 0, y = 0: competitors 3 and 2.5 → ℓ = max(0, 3 + 1 − 1) = 3, gradient +1 at c = 1, −1 at y
    // sample 1, y = 0: strongest competitor 2 → 2 + 1 − 5 = −2 → ℓ = 0, gradient 0
    expect(loss.forward(f64(1, 3, 2.5, 5, 1, 2), labels(0, 0), 2)).toBe(1.5);
    expect(list(loss.backward(), 6)).toEqual([-0.5, 0.5, 0, 0, 0, 0]);
  });

  it('uses the margin (margin 2) and gives gradient 0 exactly at the margin', () => {
    const wide = new MulticlassHinge(3, 'float64', 2);
    // y = 0: 4 + 2 − 5 = 1
    expect(wide.forward(f64(5, 1, 4), labels(0), 1)).toBe(1);
    expect(list(wide.backward(), 3)).toEqual([-1, 0, 1]);
    // With margin 1 the same scores sit on the kink: 4 + 1 − 5 = 0 → ℓ = 0 and gradient 0.
    const unit = new MulticlassHinge(3, 'float64', 1);
    expect(unit.forward(f64(5, 1, 4), labels(0), 1)).toBe(0);
    expect(list(unit.backward(), 3)).toEqual([0, 0, 0]);
  });

  it('breaks ties among competitors towards the lowest index, wherever y is', () => {
    const loss = new MulticlassHinge(3, 'float64');
    // y = 0, competitors 1 and 2 tie at 2: c* = 1, ℓ = 2 + 1 − 0 = 3
    expect(loss.forward(f64(0, 2, 2), labels(0), 1)).toBe(3);
    expect(list(loss.backward(), 3)).toEqual([-1, 1, 0]);
    // y = 1 in the middle, competitors 0 and 2 tie at 2: c* = 0, ℓ = 2 + 1 − 0 = 3
    expect(loss.forward(f64(2, 0, 2), labels(1), 1)).toBe(3);
    expect(list(loss.backward(), 3)).toEqual([1, -1, 0]);
  });

  it('turns a NaN score into a NaN loss', () => {
    const loss = new MulticlassHinge(3, 'float64');
    expect(loss.forward(f64(5, NaN, 0), labels(0), 1)).toBeNaN();
  });

  it('is built by the registry with its margin', () => {
    const loss = createLoss({ type: 'multiclass_hinge', margin: 2 }, 3, 'float64');
    expect(loss.type).toBe('multiclass_hinge');
    expect(loss.forward(f64(5, 1, 4), labels(0), 1)).toBe(1);
  });

  it('passes a numerical gradient check away from the kinks', () => {
    const margin = 1;
    // Kinks: ℓ's hinge at 0, and a tie between the two strongest competitors.
    const { scores, y } = randomBatch(21, 8, 5, (row, label) => {
      const others = row.filter((_, c) => c !== label).sort((a, b) => b - a);
      return others[0]! - others[1]! >= 0.1 && Math.abs(others[0]! + margin - row[label]!) >= 0.1;
    });
    const loss = new MulticlassHinge(5, 'float64', margin);
    // The batch must exercise both branches: some samples with ℓ > 0, some with ℓ = 0.
    loss.forward(scores, y, 8);
    const g = loss.backward();
    const active = Array.from({ length: 8 }, (_, i) => g[i * 5 + y[i]!]! < 0);
    expect(active).toContain(true);
    expect(active).toContain(false);
    expect(gradcheck(loss, scores, y, 8)).toBeLessThan(1e-7);
  });
});

describe('squared', () => {
  it('sums (f − onehot)² over outputs and averages over samples; gradient 2(f − t)/n', () => {
    const loss = new Squared(3, 'float64');
    // sample 0, y = 2: f − t = [0.5, −1, 1] → 0.25 + 1 + 1 = 2.25; sample 1, y = 0: f = t → 0
    expect(loss.forward(f64(0.5, -1, 2, 1, 0, 0), labels(2, 0), 2)).toBe(1.125);
    // 2·[0.5, −1, 1]/2 and 0
    expect(list(loss.backward(), 6)).toEqual([0.5, -1, 1, 0, 0, 0]);
  });

  it('is built by the registry', () => {
    expect(createLoss({ type: 'squared' }, 2, 'float64').forward(f64(0, 0), labels(1), 1)).toBe(1);
  });

  it('passes a numerical gradient check', () => {
    const { scores, y } = randomBatch(22, 6, 4, awayFromTargets);
    expect(gradcheck(new Squared(4, 'float64'), scores, y, 6)).toBeLessThan(1e-7);
  });
});

describe('absolute', () => {
  it('sums |f − onehot| over outputs and averages over samples; gradient sign(f − t)/n, 0 at the kink', () => {
    const loss = new Absolute(3, 'float64');
    // sample 0, y = 2: |[0.5, −1, 1]| → 2.5; sample 1, y = 0: f = t → 0
    expect(loss.forward(f64(0.5, -1, 2, 1, 0, 0), labels(2, 0), 2)).toBe(1.25);
    // [1, −1, 1]/2, and sign(0) = 0 where f = t
    expect(list(loss.backward(), 6)).toEqual([0.5, -0.5, 0.5, 0, 0, 0]);
  });

  it('is built by the registry', () => {
    expect(createLoss({ type: 'absolute' }, 2, 'float64').forward(f64(0.5, 0), labels(1), 1)).toBe(1.5);
  });

  it('passes a numerical gradient check away from the kinks', () => {
    const { scores, y } = randomBatch(23, 6, 4, awayFromTargets);
    expect(gradcheck(new Absolute(4, 'float64'), scores, y, 6)).toBeLessThan(1e-7);
  });
});

describe('float32', () => {
  it('losses return buffers of their dtype', () => {
    for (const loss of [new MulticlassHinge(2, 'float32'), new Squared(2, 'float32'), new Absolute(2, 'float32')]) {
      loss.forward(Float32Array.from([0.5, 0.25]), labels(0), 1);
      expect(loss.backward()).toBeInstanceOf(Float32Array);
    }
  });
});
