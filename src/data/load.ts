import type { Config, DatasetSpec } from '../config/schema.js';
import { InputError } from '../errors.js';
import { Rng } from '../util/rng.js';
import type { Dataset } from './dataset.js';
import { parity, spiral, xor } from './generated.js';
import { loadIdxDataset } from './idx.js';

/** Part of a dataset: the samples at `indices`. Validation may share a dataset with train. */
export interface Split {
  readonly name: SplitName;
  readonly data: Dataset;
  readonly indices: Uint32Array;
}

export type SplitName = 'train' | 'val' | 'test';

export interface Splits {
  train: Split;
  val?: Split;
  test?: Split;
}

/** Read or generate one dataset. Generated ones draw from their own stream of the seed. */
export function loadDataset(spec: DatasetSpec, role: string, seed: number): Dataset {
  switch (spec.format) {
    case 'idx':
      return loadIdxDataset(spec.images, spec.labels, role);
    case 'spiral':
      return spiral({ classes: spec.classes, pointsPerClass: spec.points_per_class, noise: spec.noise }, Rng.derive(seed, role));
    case 'xor':
      return xor({ points: spec.points, noise: spec.noise }, Rng.derive(seed, role));
    case 'parity':
      return parity({ bits: spec.bits });
  }
}

/**
 * The train, validation and test splits of a config. `validation: {fraction}` holds out
 * that share of the training set, chosen by the seed's "split" stream, so the same
 * seed always holds out the same samples.
 */
export function loadSplits(config: Config, wanted: ReadonlySet<SplitName> = new Set(['train', 'val', 'test'])): Splits {
  const { data, seed } = config;
  const train = loadDataset(data.train, 'data.train', seed);
  let trainIndices = range(train.count);
  let val: Split | undefined;
  if (data.validation && 'fraction' in data.validation) {
    const order = range(train.count);
    Rng.derive(seed, 'split').shuffle(order);
    const held = Math.round(data.validation.fraction * train.count);
    if (held < 1 || held >= train.count) {
      throw new InputError(
        `data.validation.fraction ${data.validation.fraction} of ${train.count} training samples leaves ${held} for validation and ${train.count - held} for training; both need at least one`,
      );
    }
    val = { name: 'val', data: train, indices: order.slice(0, held).sort() };
    trainIndices = order.slice(held).sort();
  } else if (data.validation && wanted.has('val')) {
    const v = loadDataset(data.validation, 'data.validation', seed);
    val = { name: 'val', data: v, indices: range(v.count) };
  }
  let test: Split | undefined;
  if (data.test && wanted.has('test')) {
    const t = loadDataset(data.test, 'data.test', seed);
    test = { name: 'test', data: t, indices: range(t.count) };
  }
  const splits: Splits = { train: { name: 'train', data: train, indices: trainIndices }, val, test };
  for (const split of [splits.train, val, test]) if (split) checkShape(split, config);
  return splits;
}

/** Every split's samples must have the model's input shape. */
function checkShape(split: Split, config: Config): void {
  const want = config.model.input;
  const got = split.data.sampleShape;
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new InputError(
      `model.input is [${want.join(', ')}] but the ${split.name} samples (${split.data.source}) have shape [${got.join(', ')}]; set model.input: [${got.join(', ')}]`,
    );
  }
}

/**
 * Labels must be class indices below the number of the model's outputs (classes).
 * Checked once, before training, so a bad label file fails fast with its position.
 */
export function checkLabels(splits: Splits, classes: number): void {
  for (const split of [splits.train, splits.val, splits.test]) {
    if (!split) continue;
    const labels = split.data.labels;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (y < 0 || y >= classes) {
        throw new InputError(
          `label ${y} at sample ${i} is not below the number of classes, ${classes} (the last layer's units); ` +
            `fix the labels or give the last dense layer ${y + 1} or more units`,
          split.data.source,
        );
      }
    }
  }
}

function range(n: number): Uint32Array {
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
