/**
 * The activation scan: the bounded top-K keeper it relies on, and the acceptance test —
 * the top-K patches of every conv unit are the ranking found by brute force, one sample
 * at a time, whatever K and the batch size.
 */
import { describe, expect, it } from 'vitest';
import { modelConfigSchema } from '../src/config/schema.js';
import type { Dataset } from '../src/data/dataset.js';
import type { Split } from '../src/data/load.js';
import { Preprocessor } from '../src/data/preprocessor.js';
import { isDead, scanActivations, type UnitPatch } from '../src/insight/activationScan.js';
import { TopK } from '../src/insight/topK.js';
import { buildNetwork } from '../src/model/build.js';
import { jsKernels } from '../src/tensor/kernels.js';
import { Rng } from '../src/util/rng.js';

describe('TopK', () => {
  it('keeps the k largest of a random stream, largest first', () => {
    const rng = Rng.derive(2, 'topk-test');
    const values = Array.from({ length: 500 }, () => rng.normal());
    for (const k of [1, 3, 10, 499, 500, 600]) {
      const top = new TopK<number>(k, (v) => v);
      for (const v of values) top.push(v);
      expect(top.size).toBe(Math.min(k, values.length));
      expect(top.sorted()).toEqual([...values].sort((a, b) => b - a).slice(0, k));
    }
  });

  it('on equal values keeps, and lists first, the item pushed first', () => {
    // Values 2, 5, 5, 1, 5, 2 pushed as items a..f; k = 3 keeps the three 5s (b, c, e),
    // and k = 4 adds the first 2 (a), not the later one (f).
    const items = [
      { id: 'a', v: 2 },
      { id: 'b', v: 5 },
      { id: 'c', v: 5 },
      { id: 'd', v: 1 },
      { id: 'e', v: 5 },
      { id: 'f', v: 2 },
    ];
    const ids = (k: number): string[] => {
      const top = new TopK<{ id: string; v: number }>(k, (item) => item.v);
      for (const item of items) top.push(item);
      return top.sorted().map((item) => item.id);
    };
    expect(ids(1)).toEqual(['b']);
    expect(ids(3)).toEqual(['b', 'c', 'e']);
    expect(ids(4)).toEqual(['b', 'c', 'e', 'a']);
    expect(ids(6)).toEqual(['b', 'c', 'e', 'a', 'f', 'd']);
  });

  it('turns away an item equal to the worst kept, and NaN always; k = 0 keeps nothing', () => {
    const top = new TopK<number>(2, (v) => v);
    expect(top.push(3)).toBe(true);
    expect(top.push(1)).toBe(true);
    expect(top.push(1)).toBe(false);
    expect(top.push(Number.NaN)).toBe(false);
    expect(top.push(2)).toBe(true);
    expect(top.sorted()).toEqual([3, 2]);
    const none = new TopK<number>(0, (v) => v);
    expect(none.push(1)).toBe(false);
    expect(none.sorted()).toEqual([]);
    expect(() => new TopK<number>(-1, (v) => v)).toThrow(/k ≥ 0/);
  });
});

describe('isDead', () => {
  const patch = (value: number): UnitPatch => ({ sample: 0, value, y: 0, x: 0 });
  it('is true with no patch or a best response ≤ 0, false once it fires', () => {
    expect(isDead([])).toBe(true);
    expect(isDead([patch(0), patch(-1)])).toBe(true);
    expect(isDead([patch(-0.5)])).toBe(true);
    expect(isDead([patch(1e-9), patch(-1)])).toBe(false);
  });
});

// ---------------------------------------------------------------- the scan against brute force

const INPUT = [1, 8, 8];
const PIXELS = 64;
const CLASSES = 3;
const config = modelConfigSchema.parse({
  seed: 11,
  model: {
    input: INPUT,
    layers: [
      { type: 'conv2d', filters: 4, kernel: 3 }, // [4, 6, 6]
      'relu',
      { type: 'maxpool2d', size: 2 }, // [4, 3, 3]
      { type: 'conv2d', filters: 3, kernel: 2 }, // [3, 2, 2]
      'flatten',
      { type: 'dense', units: CLASSES },
    ],
  },
});
const specs = config.model.layers;

/** 40 random byte images, of which the split takes 30 in a scrambled order (so split positions ≠ dataset indices). */
function randomSplit(): Split {
  const rng = Rng.derive(4, 'activation-scan-test');
  const count = 40;
  const data: Dataset = {
    x: Uint8Array.from({ length: count * PIXELS }, () => rng.nextInt(256)),
    labels: Int32Array.from({ length: count }, () => rng.nextInt(CLASSES)),
    count,
    sampleShape: INPUT,
    source: 'random',
  };
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  rng.shuffle(order);
  return { name: 'test', data, indices: order.subarray(0, 30) };
}

/**
 * Every conv layer's output for every sample, computed one sample at a time:
 * outputs[layerIndex][sample] is that sample's [F × H × W] map.
 */
function bruteForceOutputs(split: Split, preprocessor: Preprocessor): Map<number, Float64Array[]> {
  const { network } = buildNetwork(config, jsKernels, 'float64');
  const outputs = new Map<number, Float64Array[]>();
  const x = new Float64Array(PIXELS);
  const y = new Int32Array(1);
  for (let sample = 0; sample < split.indices.length; sample++) {
    preprocessor.fill(split, undefined, sample, 1, x, y);
    let h: Float64Array = x;
    network.layers.forEach((layer, i) => {
      h = Float64Array.from(layer.forward(h, 1, false));
      if (specs[i]!.type === 'conv2d') outputs.set(i, [...(outputs.get(i) ?? []), h]);
    });
  }
  return outputs;
}

/** The top k of channel f by sorting all samples: each at its first highest position, higher values first, then lower samples. */
function bruteForceTop(maps: readonly Float64Array[], channels: number, outW: number, f: number, k: number): UnitPatch[] {
  const P = maps[0]!.length / channels;
  const best = maps.map((map, sample) => {
    const values = Array.from(map.subarray(f * P, (f + 1) * P));
    const value = Math.max(...values);
    const p = values.indexOf(value);
    return { sample, value, y: Math.floor(p / outW), x: p % outW };
  });
  return best.sort((a, b) => b.value - a.value || a.sample - b.sample).slice(0, k);
}

describe('scanActivations', () => {
  const split = randomSplit();
  const preprocessor = Preprocessor.fit({ scale: 255 }, split);
  const brute = bruteForceOutputs(split, preprocessor);

  for (const { k, batch } of [
    { k: 1, batch: 7 },
    { k: 5, batch: 7 },
    { k: 5, batch: undefined },
    { k: 30, batch: 30 },
    { k: 50, batch: 4 },
  ]) {
    it(`every unit's top ${k} equals the brute-force ranking (batch ${batch ?? 'default'})`, () => {
      const { network } = buildNetwork(config, jsKernels, 'float64');
      const scan = scanActivations(network, specs, preprocessor, split, k, batch);
      expect(scan.convUnits.map((u) => [u.layer, u.layerIndex, u.channels, u.outH, u.outW, u.field])).toEqual([
        ['conv2d_1', 0, 4, 6, 6, { size: 3, jump: 1, start: 0 }],
        ['conv2d_2', 3, 3, 2, 2, { size: 6, jump: 2, start: 0 }], // maxpool: 3 + 1, jump 2; conv 2: 4 + 1·2
      ]);
      for (const units of scan.convUnits) {
        const maps = brute.get(units.layerIndex)!;
        expect(units.top).toHaveLength(units.channels);
        units.top.forEach((top, f) => {
          const expected = bruteForceTop(maps, units.channels, units.outW, f, k);
          expect(top.length).toBe(Math.min(k, split.indices.length));
          expect(
            top.map(({ sample, y, x }) => ({ sample, y, x })),
            `${units.layer} channel ${f}`,
          ).toEqual(expected.map(({ sample, y, x }) => ({ sample, y, x })));
          top.forEach((patch, r) => {
            expect(patch.value).toBeCloseTo(expected[r]!.value, 12);
          });
        });
      }
    });
  }

  it('labels, predictions and probabilities agree with a plain forward pass', () => {
    const { network } = buildNetwork(config, jsKernels, 'float64');
    const scan = scanActivations(network, specs, preprocessor, split, 2, 8);
    const N = split.indices.length;
    expect(scan.classes).toBe(CLASSES);
    expect(Array.from(scan.labels)).toEqual(Array.from(split.indices, (i) => split.data.labels[i]!));

    const x = new Float64Array(N * PIXELS);
    preprocessor.fill(split, undefined, 0, N, x, new Int32Array(N));
    const scores = network.forward(x, N, false); // [N × 3]
    for (let i = 0; i < N; i++) {
      const row = Array.from(scores.subarray(i * CLASSES, (i + 1) * CLASSES));
      expect(scan.predicted[i]).toBe(row.indexOf(Math.max(...row)));
      const p = scan.probabilities.subarray(i * CLASSES, (i + 1) * CLASSES);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      // Softmax keeps the ratios of exp(score): p_c / p_0 = exp(s_c − s_0).
      for (let c = 1; c < CLASSES; c++) expect(Math.log(p[c]! / p[0]!)).toBeCloseTo(row[c]! - row[0]!, 10);
    }
  });

  it('an empty split gives empty results', () => {
    const { network } = buildNetwork(config, jsKernels, 'float64');
    const empty: Split = { ...split, indices: new Uint32Array(0) };
    const scan = scanActivations(network, specs, preprocessor, empty, 3);
    expect(scan.labels).toHaveLength(0);
    expect(scan.probabilities).toHaveLength(0);
    for (const units of scan.convUnits) expect(units.top.every((t) => t.length === 0 && isDead(t))).toBe(true);
  });

  it('refuses specs that are not the network’s', () => {
    const { network } = buildNetwork(config, jsKernels, 'float64');
    expect(() => scanActivations(network, specs.slice(1), preprocessor, split, 1)).toThrow(/5 layer specs for a network of 6 layers/);
  });
});
