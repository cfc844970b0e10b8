// Assembling batches: the preprocessing formula x' = (x − offset) / divisor, whether it
// runs per element or, for bytes under one scale, through a table of the 256 values.
import { describe, expect, it } from 'vitest';
import type { Dataset } from '../src/data/dataset.js';
import type { Split } from '../src/data/load.js';
import { Preprocessor } from '../src/data/preprocessor.js';
import { jsKernels, type Kernels } from '../src/tensor/kernels.js';
import { nativeKernels, nativeStatus } from '../src/tensor/native.js';
import { Rng } from '../src/util/rng.js';

const FEATURES = 6;

function split(x: Dataset['x'], indices: number[]): Split {
  const count = x.length / FEATURES;
  const labels = Int32Array.from({ length: count }, (_, i) => i % 3);
  const data: Dataset = { x, labels, count, sampleShape: [FEATURES], source: 'test' };
  return { name: 'train', data, indices: Uint32Array.from(indices) };
}

function bytes(count: number): Uint8Array {
  const rng = Rng.derive(5, 'preprocessor');
  return Uint8Array.from({ length: count * FEATURES }, () => rng.nextInt(256));
}

const status = nativeStatus();
const backends: [string, Kernels][] = [
  ['js', jsKernels],
  ...(status.loaded ? [['native', nativeKernels(status.addon, 1)] as [string, Kernels]] : []),
];

describe('Preprocessor.fill', () => {
  for (const [backend, kernels] of backends) {
    for (const Type of [Float32Array, Float64Array]) {
      it(`${backend}, ${Type.name}: byte rows under one scale equal (x − 0) / scale, in the shuffled order`, () => {
        const s = split(bytes(8), [7, 2, 5, 0, 3]);
        const prep = Preprocessor.fit({ scale: 255, standardize: false }, s, kernels);
        const order = Uint32Array.of(4, 1, 0, 3, 2);
        const x = new Type(3 * FEATURES).fill(-7);
        const y = new Int32Array(3);
        prep.fill(s, order, 1, 3, x, y); // order[1..3] = 1, 0, 3 → samples 2, 7, 0
        const samples = [2, 7, 0];
        const expected = new Type(samples.flatMap((i) => Array.from(s.data.x.subarray(i * FEATURES, (i + 1) * FEATURES), (v) => v / 255)));
        expect(Array.from(x)).toEqual(Array.from(expected));
        expect(Array.from(y)).toEqual(samples.map((i) => i % 3));
      });
    }
  }

  it('standardizes each feature with the training part only, also for bytes', () => {
    const x = bytes(6);
    const train = split(x, [0, 1, 2]);
    const prep = Preprocessor.fit({ standardize: true }, train);
    const mean = (f: number) => (x[f]! + x[FEATURES + f]! + x[2 * FEATURES + f]!) / 3;
    const std = (f: number) => Math.sqrt([0, 1, 2].reduce((a, i) => a + (x[i * FEATURES + f]! - mean(f)) ** 2, 0) / 3) || 1;
    const out = new Float64Array(FEATURES);
    prep.fill(split(x, [5]), undefined, 0, 1, out, new Int32Array(1));
    for (let f = 0; f < FEATURES; f++) expect(out[f]).toBe((x[5 * FEATURES + f]! - mean(f)) / std(f));
  });

  it('float features are scaled per element', () => {
    const x = Float64Array.from({ length: 2 * FEATURES }, (_, i) => i * 0.37 - 1);
    const s = split(x, [0, 1]);
    const prep = Preprocessor.fit({ scale: 4, standardize: false }, s);
    const out = new Float64Array(FEATURES);
    prep.fill(s, undefined, 1, 1, out, new Int32Array(1));
    expect(Array.from(out)).toEqual(Array.from(x.subarray(FEATURES), (v) => v / 4));
  });
});
