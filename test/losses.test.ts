import { describe, expect, it } from 'vitest';
import { Absolute } from '../src/losses/absolute.js';
import type { Loss } from '../src/losses/loss.js';
import { MulticlassHinge } from '../src/losses/multiclassHinge.js';
import { createLoss } from '../src/losses/registry.js';
import { SoftmaxCrossEntropy } from '../src/losses/softmaxCrossEntropy.js';
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

/** Every entry of `got` within 1e-14 of `want` (hand-computed fractions are not exact in binary). */
function expectClose(got: ArrayLike<number>, want: number[]): void {
  expect(got.length).toBe(want.length);
  for (const [i, v] of want.entries()) expect(got[i], `entry ${i}`).toBeCloseTo(v, 14);
}

describe('class weights', () => {
  // Weights w = [1, 2, 0.5] for classes 0, 1, 2; the batch loss is Σ w_y·ℓ / Σ w_y.
  const w = f64(1, 2, 0.5);

  it('softmax cross-entropy: weighted mean of −log p_y, gradient w_y·(p − onehot(y))/W', () => {
    const loss = new SoftmaxCrossEntropy(3, 'float64', w);
    // sample 0, y = 0: scores [0, 0, 0]       → p = [1/3, 1/3, 1/3], ℓ = ln 3,  w = 1
    // sample 1, y = 1: scores [0, ln 2, 0]    → e^f = [1, 2, 1], p = [1/4, 1/2, 1/4], ℓ = ln 2, w = 2
    // sample 2, y = 2: scores [0, 0, ln 2]    → p = [1/4, 1/4, 1/2], ℓ = ln 2, w = 0.5
    // W = 1 + 2 + 0.5 = 3.5;  L = (ln 3 + 2·ln 2 + 0.5·ln 2)/3.5 = (ln 3 + 2.5·ln 2)/3.5 ≈ 0.80897
    const scores = f64(0, 0, 0, 0, Math.log(2), 0, 0, 0, Math.log(2));
    expect(loss.forward(scores, labels(0, 1, 2), 3)).toBeCloseTo((Math.log(3) + 2.5 * Math.log(2)) / 3.5, 14);
    expect(loss.batchWeight()).toBe(3.5);
    // row 0: (1/3.5)·([1/3, 1/3, 1/3] − [1, 0, 0]) = [−4/21, 2/21, 2/21]
    // row 1: (2/3.5)·([1/4, 1/2, 1/4] − [0, 1, 0]) = (4/7)·[1/4, −1/2, 1/4] = [1/7, −2/7, 1/7]
    // row 2: (0.5/3.5)·([1/4, 1/4, 1/2] − [0, 0, 1]) = (1/7)·[1/4, 1/4, −1/2] = [1/28, 1/28, −1/14]
    expectClose(list(loss.backward(), 9), [-4 / 21, 2 / 21, 2 / 21, 1 / 7, -2 / 7, 1 / 7, 1 / 28, 1 / 28, -1 / 14]);
  });

  it('multiclass hinge: weighted mean of the hinge, gradient ±w_y/W; a sample with ℓ = 0 still counts in W', () => {
    const loss = new MulticlassHinge(3, 'float64', 1, w);
    // sample 0, y = 0: scores [1, 3, 2.5] → c* = 1, ℓ = 3 + 1 − 1 = 3,     w = 1
    // sample 1, y = 1: scores [0, 0.5, 2] → c* = 2, ℓ = 2 + 1 − 0.5 = 2.5, w = 2
    // sample 2, y = 2: scores [0, 1, 5]   → c* = 1, 1 + 1 − 5 = −3 → ℓ = 0, w = 0.5
    // W = 3.5;  L = (1·3 + 2·2.5 + 0.5·0)/3.5 = 8/3.5 = 16/7
    const scores = f64(1, 3, 2.5, 0, 0.5, 2, 0, 1, 5);
    expect(loss.forward(scores, labels(0, 1, 2), 3)).toBeCloseTo(16 / 7, 14);
    expect(loss.batchWeight()).toBe(3.5);
    // row 0: ±1/3.5 = ±2/7 at (c* = 1, y = 0); row 1: ±2/3.5 = ±4/7 at (c* = 2, y = 1); row 2: 0
    expectClose(list(loss.backward(), 9), [-2 / 7, 2 / 7, 0, 0, -4 / 7, 4 / 7, 0, 0, 0]);
  });

  it('weights all 1 give the unweighted loss and gradient bit for bit', () => {
    const { scores, y } = randomBatch(31, 7, 3, () => true);
    const ones = f64(1, 1, 1);
    for (const [plain, weighted] of [
      [new SoftmaxCrossEntropy(3, 'float64'), new SoftmaxCrossEntropy(3, 'float64', ones)],
      [new MulticlassHinge(3, 'float64'), new MulticlassHinge(3, 'float64', 1, ones)],
    ] as const) {
      expect(weighted.forward(scores, y, 7)).toBe(plain.forward(scores, y, 7));
      expect(list(weighted.backward(), 21)).toEqual(list(plain.backward(), 21));
    }
  });

  it('a weight of 2 counts a sample as if it were there twice', () => {
    // batch (a: y = 0, b: y = 1) with w = [1, 2, 1] against the unweighted batch (a, b, b)
    const a = [0.3, -1.2, 0.8];
    const b = [1.5, 0.1, -0.4];
    for (const [weighted, plain] of [
      [new SoftmaxCrossEntropy(3, 'float64', f64(1, 2, 1)), new SoftmaxCrossEntropy(3, 'float64')],
      [new MulticlassHinge(3, 'float64', 1, f64(1, 2, 1)), new MulticlassHinge(3, 'float64')],
    ] as const) {
      expect(weighted.forward(f64(...a, ...b), labels(0, 1), 2)).toBeCloseTo(plain.forward(f64(...a, ...b, ...b), labels(0, 1, 1), 3), 14);
      // d/d(b's scores) of the weighted batch = the sum of both copies' gradients in the plain one
      const dw = list(weighted.backward(), 6);
      const dp = list(plain.backward(), 9);
      expectClose(dw, [...dp.slice(0, 3), ...[0, 1, 2].map((c) => dp[3 + c]! + dp[6 + c]!)]);
    }
  });

  it('a batch whose samples all have weight 0 has loss 0 and gradient 0, and a NaN score still gives NaN', () => {
    for (const loss of [new SoftmaxCrossEntropy(3, 'float64', f64(0, 1, 1)), new MulticlassHinge(3, 'float64', 1, f64(0, 1, 1))]) {
      expect(loss.forward(f64(0.5, 2, -1, 3, 0, 1), labels(0, 0), 2)).toBe(0);
      expect(list(loss.backward(), 6)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(loss.forward(f64(0.5, NaN, -1), labels(0), 1)).toBeNaN();
    }
  });

  it('pass a numerical gradient check with uneven weights', () => {
    const weights = f64(0.2, 3, 1, 0);
    const soft = randomBatch(32, 9, 4, () => true);
    expect(gradcheck(new SoftmaxCrossEntropy(4, 'float64', weights), soft.scores, soft.y, 9)).toBeLessThan(1e-7);
    // Away from the hinge's kinks, as in its unweighted check.
    const hinge = randomBatch(33, 9, 4, (row, label) => {
      const others = row.filter((_, c) => c !== label).sort((a, b) => b - a);
      return others[0]! - others[1]! >= 0.1 && Math.abs(others[0]! + 1 - row[label]!) >= 0.1;
    });
    expect(gradcheck(new MulticlassHinge(4, 'float64', 1, weights), hinge.scores, hinge.y, 9)).toBeLessThan(1e-7);
  });

  it('are built by the registry from the config; a list of the wrong length names loss.class_weights', () => {
    const loss = createLoss({ type: 'softmax_cross_entropy', class_weights: [1, 2, 0.5] }, 3, 'float64');
    expect(loss.forward(f64(0, 0, 0, 0, 0, 0), labels(0, 1), 2)).toBeCloseTo(Math.log(3), 14);
    expect(loss.batchWeight?.()).toBe(3);
    expect(() => createLoss({ type: 'multiclass_hinge', margin: 1, class_weights: [1, 2] }, 3, 'float64')).toThrow(
      /loss\.class_weights lists 2 weights but the last layer has 3 outputs/,
    );
  });

  it('keep log C as the expected initial loss: a weighted mean of log C is log C', () => {
    expect(new SoftmaxCrossEntropy(4, 'float64', f64(1, 5, 0.5, 2)).initialLoss()).toBe(Math.log(4));
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
