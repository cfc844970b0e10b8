import type { Config, DatasetSpec, FileSpec } from '../config/schema.js';
import { InputError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { CATALOG, locateDataset } from './catalog.js';
import { loadCifar10 } from './cifar10.js';
import { type LabelMapping, labelCsvTable, labelMapping, readCsvTable } from './csv.js';
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
  /**
   * Names of the classes, class k being classes[k], when data.train is a CSV file with
   * text labels. Saved in snapshots; every split's labels were mapped with it.
   */
  classes?: readonly string[];
  /** What to call each class in reports: see classNamesOf. */
  classNames?: readonly string[];
  /**
   * Problems with the data that do not stop training, one sentence each, for the caller
   * to show (loadSplits prints nothing); empty when there is nothing to say.
   */
  warnings: string[];
}

/**
 * Read or generate one dataset. Generated ones draw from their own stream of the seed.
 * A CSV file's labels are mapped with `labels` (decided by data.train); without one,
 * the file decides its own mapping (which only data.train may do).
 */
export function loadDataset(
  spec: DatasetSpec,
  role: string,
  seed: number,
  labels?: LabelMapping,
  /** data.class_names: the order of the classes when the file's labels are names. */
  order?: readonly string[],
): { data: Dataset; labels?: LabelMapping } {
  if ('name' in spec)
    return loadDataset(locateDataset(spec.name, splitOf(spec.split, role, `names the data set ${spec.name}`)), role, seed, labels, order);
  if (spec.format === 'csv') {
    const table = readCsvTable(spec.path, { labelColumn: spec.label_column, header: spec.header, delimiter: spec.delimiter }, role);
    const mapping = labels ?? labelMapping(table, order);
    return { data: labelCsvTable(table, mapping, order !== undefined), labels: mapping };
  }
  return { data: loadUnlabelled(spec, role, seed) };
}

function loadUnlabelled(spec: Exclude<FileSpec, { format: 'csv' }>, role: string, seed: number): Dataset {
  switch (spec.format) {
    case 'idx':
      return loadIdxDataset(spec.images, spec.labels, role);
    case 'cifar10':
      // A single .bin file is read whole: its split is not used.
      return loadCifar10(
        spec.path,
        spec.path.endsWith('.bin')
          ? 'test'
          : splitOf(spec.split, role, 'reads a CIFAR-10 folder (test_batch.bin, or the five data batches)', spec.path),
        role,
      );
    case 'spiral':
      return spiral({ classes: spec.classes, pointsPerClass: spec.points_per_class, noise: spec.noise }, Rng.derive(seed, role));
    case 'xor':
      return xor({ points: spec.points, noise: spec.noise }, Rng.derive(seed, role));
    case 'parity':
      return parity({ bits: spec.bits });
  }
}

/**
 * Which part of a data set a spec reads — a named set's part, a CIFAR-10 folder's
 * batches: its `split`, else by role (data.train the training part, data.test the test
 * part). A validation set must say which; `what` describes the spec for that message.
 */
function splitOf(split: 'train' | 'test' | undefined, role: string, what: string, file?: string): 'train' | 'test' {
  if (split) return split;
  if (role === 'data.train') return 'train';
  if (role === 'data.test') return 'test';
  throw new InputError(
    `${role} ${what} but does not say which part: add split: test or split: train, or hold out part of the training set with validation: {fraction: 0.1}`,
    file,
  );
}

/**
 * The train, validation and test splits of a config. `validation: {fraction}` holds out
 * that share of the training set, chosen by the seed's "split" stream, so the same
 * seed always holds out the same samples.
 *
 * @param classes the class names a snapshot was trained with; CSV labels are mapped with
 *   them instead of the mapping data.train would give now.
 */
export function loadSplits(config: Config, wanted: ReadonlySet<SplitName> = new Set(['train', 'val', 'test']), classes?: readonly string[]): Splits {
  const { data, seed } = config;
  const loaded = loadDataset(data.train, 'data.train', seed, classes, data.class_names);
  const train = loaded.data;
  // The training file's mapping serves every split; when data.train is not a CSV file,
  // CSV labels elsewhere must be class indices like its labels.
  const labels: LabelMapping = loaded.labels ?? 'indices';
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
    const v = loadDataset(data.validation, 'data.validation', seed, labels, data.class_names).data;
    val = { name: 'val', data: v, indices: range(v.count) };
  }
  let test: Split | undefined;
  if (data.test && wanted.has('test')) {
    const t = loadDataset(data.test, 'data.test', seed, labels, data.class_names).data;
    test = { name: 'test', data: t, indices: range(t.count) };
  }
  const splits: Splits = { train: { name: 'train', data: train, indices: trainIndices }, val, test, warnings: [] };
  if (labels !== 'indices') splits.classes = labels;
  const names = classNamesOf(config, splits.classes);
  if (names) splits.classNames = names;
  for (const split of [splits.train, val, test]) if (split) checkShape(split, config);
  const oneClass = singleClass(splits.train, data.train, names);
  if (oneClass) splits.warnings.push(oneClass);
  return splits;
}

/**
 * A warning when every training sample has the same label: the loss is then minimised
 * by always answering that class, which is nothing learnt. Usually the wrong label column,
 * or a file sorted by class and cut short.
 */
function singleClass(train: Split, spec: DatasetSpec, names: readonly string[] | undefined): string | undefined {
  const { labels } = train.data;
  const first = labels[train.indices[0]!];
  if (first === undefined || train.indices.some((i) => labels[i] !== first)) return undefined;
  const name = names?.[first];
  const check = 'format' in spec && spec.format === 'csv' ? 'check label_column and the file' : 'check the labels of data.train';
  return `data.train holds only one class (${name === undefined ? `label ${first}` : JSON.stringify(name)}); a classifier cannot learn anything from it — ${check}`;
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
 * What to call each class: the CSV file's label names (in the order they were mapped),
 * else data.class_names, else the authors' names of a named data set; undefined when
 * the class index is all there is.
 */
export function classNamesOf(config: Config, mapping?: readonly string[]): readonly string[] | undefined {
  const { train, class_names } = config.data;
  return mapping ?? class_names ?? ('name' in train ? CATALOG[train.name].classNames : undefined);
}

/**
 * Labels must be class indices below the number of the model's outputs (classes).
 * Checked once, before training, so a bad label file fails fast with its position.
 * data.class_names, when given, names every output.
 */
export function checkLabels(splits: Splits, classes: number, classNames?: readonly string[]): void {
  if (classNames && classNames.length !== classes) {
    throw new InputError(
      `data.class_names lists ${classNames.length} names but the last layer has ${classes} units; name each output once, or give the last dense layer ${classNames.length} units`,
    );
  }
  if (splits.classes && splits.classes.length > classes) {
    const names = splits.classes.map((c) => `"${c}"`);
    throw new InputError(
      `the training data has ${splits.classes.length} classes (${names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ')}) ` +
        `but the last layer has ${classes} units; give the last dense layer ${splits.classes.length} units`,
      splits.train.data.source,
    );
  }
  for (const split of [splits.train, splits.val, splits.test]) {
    if (!split) continue;
    const { labels, labelSource, source } = split.data;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (y < 0 || y >= classes) {
        throw new InputError(
          `label ${y} at sample ${i} is not below the number of classes, ${classes} (the last layer's units); ` +
            `fix the labels or give the last dense layer ${y + 1} or more units`,
          labelSource ?? source,
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
