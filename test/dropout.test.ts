import { describe, expect, it } from 'vitest';
import { Dropout } from '../src/layers/dropout.js';
import type { LayerContext } from '../src/layers/layer.js';
import { createLayer } from '../src/layers/registry.js';
import { jsKernels } from '../src/tensor/kernels.js';
import type { DType } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';

function ctx(inputShape: number[], seed = 1, dtype: DType = 'float64'): LayerContext {
  return {
    name: 'dropout_1',
    inputShape,
    dtype,
    kernels: jsKernels,
    rng: Rng.derive(seed, 'init'),
    noise: Rng.derive(seed, 'dropout'),
  };
}

const UNITS = 1000;
const BATCH = 100; // 10⁵ units per forward
const ones = new Float64Array(UNITS * BATCH).fill(1);

function meanAndDropped(y: ArrayLike<number>, count: number): { mean: number; dropped: number } {
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < count; i++) {
    sum += y[i]!;
    if (y[i] === 0) zeros++;
  }
  return { mean: sum / count, dropped: zeros / count };
}

describe('dropout', () => {
  it('is the identity at evaluation: returns its input and draws nothing', () => {
    const c = ctx([4]);
    const before = c.noise.toState();
    const d = new Dropout({ rate: 0.5 }, c);
    const x = Float64Array.from([1, 2, 3, 4]);
    expect(d.forward(x, 1, false)).toBe(x);
    const dy = Float64Array.from([5, 6, 7, 8]);
    expect(d.backward(dy, 1, true)).toBe(dy);
    expect(c.noise.toState()).toEqual(before);
  });

  it('rate 0 is the identity in training too, with no draws', () => {
    const c = ctx([4]);
    const before = c.noise.toState();
    const d = new Dropout({ rate: 0 }, c);
    const x = Float64Array.from([1, 2, 3, 4]);
    expect(d.forward(x, 1, true)).toBe(x);
    expect(c.noise.toState()).toEqual(before);
  });

  for (const rate of [0.5, 0.2]) {
    it(`rate ${rate}: preserves the expected activation within 1% and drops ≈ rate of 10⁵ units`, () => {
      const d = new Dropout({ rate }, ctx([UNITS]));
      const y = d.forward(ones, BATCH, true);
      const { mean, dropped } = meanAndDropped(y, UNITS * BATCH);
      expect(Math.abs(mean - 1)).toBeLessThan(0.01);
      expect(Math.abs(dropped - rate)).toBeLessThan(0.01);
      // Kept units are scaled by exactly 1/p.
      const kept = new Set(Array.from(y.subarray(0, UNITS * BATCH)).filter((v) => v !== 0));
      expect([...kept]).toEqual([1 / (1 - rate)]);
    });
  }

  it('draws one nextFloat per unit, in order, dropping when it is below rate', () => {
    const d = new Dropout({ rate: 0.3 }, ctx([5]));
    const y = Array.from(d.forward(new Float64Array(10).fill(1), 2, true).subarray(0, 10));
    const reference = Rng.derive(1, 'dropout');
    const expected = Array.from({ length: 10 }, () => (reference.nextFloat() < 0.3 ? 0 : 1 / 0.7));
    expect(y).toEqual(expected);
  });

  it('repeats its masks from the seed, and differs for another seed or the next batch', () => {
    const run = (seed: number) => Array.from(new Dropout({ rate: 0.5 }, ctx([64], seed)).forward(ones, 2, true).subarray(0, 128));
    expect(run(1)).toEqual(run(1));
    expect(run(2)).not.toEqual(run(1));
    const d = new Dropout({ rate: 0.5 }, ctx([64]));
    const first = Array.from(d.forward(ones, 2, true).subarray(0, 128));
    const second = Array.from(d.forward(ones, 2, true).subarray(0, 128));
    expect(first).toEqual(run(1));
    expect(second).not.toEqual(first);
  });

  it('backward multiplies by the same mask and scale as forward', () => {
    const d = new Dropout({ rate: 0.5 }, ctx([50]));
    const rng = Rng.derive(5, 'x');
    const x = Float64Array.from({ length: 100 }, () => 1 + rng.nextFloat());
    const y = Float64Array.from(d.forward(x, 2, true).subarray(0, 100));
    const dy = Float64Array.from({ length: 100 }, () => rng.nextFloat() - 0.5);
    const dx = d.backward(dy, 2, true);
    let droppedCount = 0;
    for (let i = 0; i < 100; i++) {
      const m = y[i]! / x[i]!; // 0 or 2
      if (m === 0) droppedCount++;
      expect(dx[i]).toBe(dy[i]! * (m === 0 ? 0 : 2));
    }
    expect(droppedCount).toBeGreaterThan(0);
    expect(droppedCount).toBeLessThan(100);
  });

  it('passes a numerical gradient check under a fixed mask (same seed for every forward)', () => {
    // A fresh layer on the same seed draws the same mask, so y(x) is one fixed linear map.
    const make = () => new Dropout({ rate: 0.4 }, ctx([6]));
    const n = 2;
    const rng = Rng.derive(9, 'x');
    const x = Float64Array.from({ length: 12 }, () => rng.normal());
    const w = Float64Array.from({ length: 12 }, () => 0.5 + rng.nextFloat());
    const layer = make();
    layer.forward(x, n, true);
    const dx = Float64Array.from(layer.backward(w, n, true).subarray(0, 12));
    const delta = 1e-6;
    for (let j = 0; j < 12; j++) {
      const xp = Float64Array.from(x);
      xp[j] = x[j]! + delta;
      const plus = Float64Array.from(make().forward(xp, n, true).subarray(0, 12));
      xp[j] = x[j]! - delta;
      const minus = make().forward(xp, n, true);
      let numeric = 0;
      for (let i = 0; i < 12; i++) numeric += (w[i]! * (plus[i]! - minus[i]!)) / (2 * delta);
      const err = dx[j] === numeric ? 0 : Math.abs(dx[j]! - numeric) / Math.max(Math.abs(dx[j]!), Math.abs(numeric));
      expect(err).toBeLessThan(1e-7);
    }
  });

  it('runs in float32 and is built by the registry', () => {
    const d = createLayer({ type: 'dropout', rate: 0.2 }, ctx([8], 1, 'float32'));
    expect(d.type).toBe('dropout');
    const y = d.forward(new Float32Array(8).fill(1), 1, true);
    expect(y).toBeInstanceOf(Float32Array);
    for (const v of y.subarray(0, 8)) expect([0, 1.25]).toContain(v);
  });
});
