/**
 * data.class_names: names for class indices (shown by dlt eval and dlt inspect, written
 * to summary.json), the class order of CSV files whose labels are names, and the
 * authors' names of the named data sets by default.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { CATALOG } from '../src/data/catalog.js';
import { checkLabels, classNamesOf, loadSplits } from '../src/data/load.js';
import { readSnapshot } from '../src/snapshot/snapshot.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { inputErrorOf } from './support/layers.js';

const tmp = tempDir('dlt-class-names-');
afterAll(() => tmp.cleanup());

const NAMES = ['ant', 'moth', 'zebra'];

/** Three well-separated clusters in the plane; `label(k)` writes class k's label. */
function clusters(n: number, label: (k: number) => string): string {
  const rows = Array.from({ length: n }, (_, i) => {
    const k = i % 3;
    const jitter = ((i * 37) % 11) / 20;
    return `${[0, 5, 10][k]! + jitter},${[10, 0, 5][k]! - jitter},${label(k)}`;
  });
  return `${['x,y,label', ...rows].join('\n')}\n`;
}

function configFile(dir: string, data: string, units = 3): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'config.yaml');
  writeFileSync(
    file,
    `name: names
data:
${data}
model: {input: [2], layers: [{type: dense, units: ${units}, init: zeros}]}
optimizer: {type: sgd, lr: 0.05}
training: {epochs: 10, batch_size: 10}
`,
  );
  return file;
}

describe('data.class_names in the config', () => {
  const problem = (names: string) => {
    const file = configFile(path.join(tmp.dir, 'bad'), `  train: {format: spiral, classes: 3}\n  class_names: ${names}`);
    return inputErrorOf(() => loadConfig(file));
  };

  it('refuses a name listed twice, at its line and column', () => {
    expect(problem('[a, b, a]').message).toMatch(/config\.yaml:4:16: data\.class_names: class names must differ; "a" is listed twice/);
  });

  it('refuses an empty name and a list of one', () => {
    expect(problem('[a, " "]').message).toContain('a class name must not be empty');
    expect(problem('[a]').message).toContain('list at least two class names');
  });

  it('must name every output of the last layer', () => {
    const file = configFile(path.join(tmp.dir, 'count'), '  train: {format: spiral, classes: 3}\n  class_names: [a, b]');
    const config = loadConfig(file);
    const err = inputErrorOf(() => checkLabels(loadSplits(config), 3, config.data.class_names));
    expect(err.message).toBe(
      'data.class_names lists 2 names but the last layer has 3 units; name each output once, or give the last dense layer 2 units',
    );
    const r = dlt(['train', file, '--out', path.join(tmp.dir, 'count', 'runs')], tmp.dir);
    expect(expectInputError(r)).toContain('data.class_names lists 2 names but the last layer has 3 units');
  });
});

describe('names for index labels', () => {
  const dir = path.join(tmp.dir, 'indices');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'train.csv'), clusters(60, String));
  writeFileSync(path.join(dir, 'test.csv'), clusters(9, String));
  const file = configFile(
    dir,
    `  train: {format: csv, path: train.csv, label_column: label}
  test: {format: csv, path: test.csv, label_column: label}
  class_names: [${NAMES.join(', ')}]`,
  );

  it('leave the labels as they are and reach summary.json, eval and inspect; the snapshot keeps no mapping', () => {
    const splits = loadSplits(loadConfig(file));
    expect(splits.classes).toBeUndefined();
    expect(splits.classNames).toEqual(NAMES);
    expect(Array.from(splits.train.data.labels.subarray(0, 3))).toEqual([0, 1, 2]);

    const r = dlt(['train', file, '--out', path.join(dir, 'runs')], dir);
    expect(r.stderr).toBe('');
    const runDir = r.stdout.split('\n')[0]!;
    expect(JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8'))).toMatchObject({ classes: NAMES, test_accuracy: 1 });
    expect(readSnapshot(path.join(runDir, 'snapshots', 'latest.safetensors')).classes).toBeUndefined();

    const evaluated = dlt(['eval', runDir], dir);
    expect(evaluated.code).toBe(0);
    expect(evaluated.stdout).toMatch(/^ {4}2 {2}1\.0000 {2}zebra$/m);
    expect(JSON.parse(dlt(['eval', runDir, '--json'], dir).stdout).classes).toEqual(NAMES);
    expect(dlt(['inspect', runDir], dir).stdout).toMatch(/^classes +0 ant, 1 moth, 2 zebra$/m);
  });
});

describe('the class order of CSV labels that are names', () => {
  const dir = path.join(tmp.dir, 'order');
  mkdirSync(dir, { recursive: true });
  const order = ['zebra', 'ant', 'moth']; // not sorted
  writeFileSync(
    path.join(dir, 'train.csv'),
    clusters(60, (k) => NAMES[k]!),
  );
  writeFileSync(
    path.join(dir, 'test.csv'),
    clusters(9, (k) => NAMES[k]!),
  );
  const file = configFile(
    dir,
    `  train: {format: csv, path: train.csv, label_column: label}
  test: {format: csv, path: test.csv, label_column: label}
  class_names: [${order.join(', ')}]`,
  );

  it('is the list given, for training, the snapshot, summary.json and eval', () => {
    const splits = loadSplits(loadConfig(file));
    expect(splits.classes).toEqual(order);
    // rows cycle ant, moth, zebra → classes 1, 2, 0
    expect(Array.from(splits.train.data.labels.subarray(0, 3))).toEqual([1, 2, 0]);

    const r = dlt(['train', file, '--out', path.join(dir, 'runs')], dir);
    expect(r.stderr).toBe('');
    const runDir = r.stdout.split('\n')[0]!;
    expect(readSnapshot(path.join(runDir, 'snapshots', 'latest.safetensors')).classes).toEqual(order);
    expect(JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8'))).toMatchObject({ classes: order, test_accuracy: 1 });
    expect(JSON.parse(dlt(['eval', runDir, '--json'], dir).stdout).classes).toEqual(order);
  });

  it('a label missing from the list is refused at its cell, with the list and a suggestion', () => {
    writeFileSync(path.join(dir, 'typo.csv'), 'x,y,label\n0,10,ant\n5,0,moht\n');
    const typo = configFile(
      path.join(dir, 'typo'),
      `  train: {format: csv, path: ../typo.csv, label_column: label}\n  class_names: [${order.join(', ')}]`,
    );
    const err = inputErrorOf(() => loadSplits(loadConfig(typo)));
    expect(err.file).toBe(path.join(dir, 'typo.csv'));
    expect(err.position).toEqual({ line: 3, col: 5 });
    expect(err.message).toContain(
      'label "moht" in column 3 ("label") is not one of the 3 classes of data.class_names ("zebra", "ant", "moth"); did you mean "moth"? — add it to data.class_names, or spell the label as it is there',
    );
  });
});

describe('named data sets', () => {
  it("default to their authors' class names; data.class_names overrides them", () => {
    const config = (extra: string) => loadConfig(configFile(path.join(tmp.dir, 'named'), `  train: {name: cifar10}${extra}`, 10));
    expect(classNamesOf(config(''))).toEqual(CATALOG.cifar10.classNames);
    expect(CATALOG.cifar10.classNames).toHaveLength(10);
    expect(CATALOG['fashion-mnist'].classNames).toHaveLength(10);
    const own = Array.from({ length: 10 }, (_, k) => `c${k}`);
    expect(classNamesOf(config(`\n  class_names: [${own.join(', ')}]`))).toEqual(own);
    // MNIST's classes are their digits: nothing to add
    expect(CATALOG.mnist.classNames).toBeUndefined();
  });
});
