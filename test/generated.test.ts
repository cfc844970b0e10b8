import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { parity, spiral, xor } from '../src/data/generated.js';
import { loadSplits } from '../src/data/load.js';
import { InputError } from '../src/errors.js';
import { Rng } from '../src/util/rng.js';

const rng = (seed: number): Rng => Rng.derive(seed, 'data');

describe('spiral', () => {
  const opts = { classes: 3, pointsPerClass: 100, noise: 0.2 };

  it('has classes × points_per_class two-dimensional points, class by class', () => {
    const ds = spiral(opts, rng(1));
    expect(ds.count).toBe(300);
    expect(ds.x).toBeInstanceOf(Float32Array);
    expect(ds.x.length).toBe(600);
    expect(ds.sampleShape).toEqual([2]);
    expect(ds.labels.length).toBe(300);
    expect(ds.labels[0]).toBe(0);
    expect(ds.labels[99]).toBe(0);
    expect(ds.labels[100]).toBe(1);
    expect(ds.labels[299]).toBe(2);
    expect(ds.x.every(Number.isFinite)).toBe(true);
    expect(ds.source).toBe('spiral(classes=3, points_per_class=100, noise=0.2)');
  });

  it('puts point i of N at radius i/(N−1) and, without noise, angle 4j + 4i/(N−1)', () => {
    const ds = spiral({ classes: 2, pointsPerClass: 5, noise: 0 }, rng(1));
    for (let k = 0; k < ds.count; k++) {
      const j = Math.floor(k / 5);
      const i = k % 5;
      const t = 4 * j + i; // 4·i/(N−1) with N = 5
      expect(ds.x[2 * k]).toBeCloseTo((i / 4) * Math.sin(t), 6);
      expect(ds.x[2 * k + 1]).toBeCloseTo((i / 4) * Math.cos(t), 6);
    }
  });

  it('handles one point per class (at the origin, like linspace(0, 1, 1))', () => {
    const ds = spiral({ classes: 4, pointsPerClass: 1, noise: 0.5 }, rng(1));
    expect(ds.count).toBe(4);
    expect(Array.from(ds.labels)).toEqual([0, 1, 2, 3]);
    expect(Array.from(ds.x).map(Math.abs)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('is a function of the seed', () => {
    const a = spiral(opts, rng(7));
    const b = spiral(opts, rng(7));
    const c = spiral(opts, rng(8));
    expect(b.x).toEqual(a.x);
    expect(b.labels).toEqual(a.labels);
    expect(c.x).not.toEqual(a.x);
  });

  it('refuses impossible options', () => {
    expect(() => spiral({ ...opts, classes: 0 }, rng(1))).toThrow(InputError);
    expect(() => spiral({ ...opts, pointsPerClass: 2.5 }, rng(1))).toThrow(/points_per_class/);
    expect(() => spiral({ ...opts, noise: -1 }, rng(1))).toThrow(InputError);
  });
});

describe('xor', () => {
  it('has the requested number of two-dimensional points with labels 0 and 1', () => {
    const ds = xor({ points: 200, noise: 0.1 }, rng(1));
    expect(ds.count).toBe(200);
    expect(ds.x.length).toBe(400);
    expect(ds.sampleShape).toEqual([2]);
    expect(ds.labels.every((l) => l === 0 || l === 1)).toBe(true);
    expect(ds.labels.includes(0) && ds.labels.includes(1)).toBe(true);
    expect(ds.source).toBe('xor(points=200, noise=0.1)');
  });

  it('without noise puts every point on a corner, labelled 1 exactly when the signs differ', () => {
    const ds = xor({ points: 100, noise: 0 }, rng(3));
    const corners = new Set<string>();
    for (let k = 0; k < ds.count; k++) {
      const a = ds.x[2 * k]!;
      const b = ds.x[2 * k + 1]!;
      expect(Math.abs(a)).toBe(1);
      expect(Math.abs(b)).toBe(1);
      expect(ds.labels[k]).toBe(Math.sign(a) !== Math.sign(b) ? 1 : 0);
      corners.add(`${a},${b}`);
    }
    expect(corners.size).toBe(4);
  });

  it('is a function of the seed, and the noise level does not move the corners', () => {
    const a = xor({ points: 50, noise: 0.3 }, rng(5));
    const b = xor({ points: 50, noise: 0.3 }, rng(5));
    const c = xor({ points: 50, noise: 0.3 }, rng(6));
    const quiet = xor({ points: 50, noise: 0 }, rng(5));
    expect(b.x).toEqual(a.x);
    expect(b.labels).toEqual(a.labels);
    expect(c.x).not.toEqual(a.x);
    expect(quiet.labels).toEqual(a.labels);
  });
});

describe('parity', () => {
  it('lists all 2^bits vectors, row k being k in binary, most significant bit first', () => {
    const ds = parity({ bits: 3 });
    expect(ds.count).toBe(8);
    expect(ds.sampleShape).toEqual([3]);
    expect(ds.x.length).toBe(24);
    const row = (k: number): number[] => Array.from(ds.x.subarray(3 * k, 3 * k + 3));
    expect(row(0)).toEqual([0, 0, 0]);
    expect(row(1)).toEqual([0, 0, 1]);
    expect(row(6)).toEqual([1, 1, 0]);
    expect(ds.source).toBe('parity(bits=3)');
  });

  it('labels each vector with the parity of its ones', () => {
    const ds = parity({ bits: 3 });
    // 000 → 0, 001 → 1, 011 → 0, 101 → 0, 110 → 0, 111 → 1
    expect(ds.labels[0]).toBe(0);
    expect(ds.labels[1]).toBe(1);
    expect(ds.labels[3]).toBe(0);
    expect(ds.labels[5]).toBe(0);
    expect(ds.labels[6]).toBe(0);
    expect(ds.labels[7]).toBe(1);
    const eight = parity({ bits: 8 });
    expect(eight.labels[0b10110100]).toBe(0); // four ones
    expect(eight.labels[0b10110101]).toBe(1); // five ones
    expect(eight.labels.reduce((s, l) => s + l, 0)).toBe(128); // half of all vectors are odd
  });

  it('accepts up to 16 bits and refuses more', () => {
    expect(parity({ bits: 16 }).count).toBe(65536);
    expect(() => parity({ bits: 17 })).toThrow(InputError);
    expect(() => parity({ bits: 17 })).toThrow(/at most 16 bits/);
    expect(() => parity({ bits: 0 })).toThrow(InputError);
  });
});

describe('loadSplits on generated data', () => {
  const config = (classes: number, validation = '') =>
    parseConfig(
      `data:
  train: {format: spiral, classes: ${classes}, points_per_class: 20}
${validation}model: {input: [2], layers: [{type: dense, units: 3}]}
optimizer: {type: sgd, lr: 0.1}
`,
      'cfg.yaml',
    );

  it('warns when the training split holds a single class', () => {
    expect(loadSplits(config(1)).warnings).toEqual([
      'data.train holds only one class (label 0); a classifier cannot learn anything from it — check the labels of data.train',
    ]);
  });

  it('says nothing when it holds several, validation held out or not', () => {
    expect(loadSplits(config(3)).warnings).toEqual([]);
    expect(loadSplits(config(2, '  validation: {fraction: 0.5}\n')).warnings).toEqual([]);
  });
});
