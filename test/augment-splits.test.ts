/**
 * data.augment transforms training batches only: the validation records of a run that
 * augments, its test result in summary.json and `dlt eval` on every split are what the
 * same weights give with no augmentation at all.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSplits, type Split } from '../src/data/load.js';
import { Preprocessor } from '../src/data/preprocessor.js';
import { buildModel } from '../src/model/build.js';
import { loadParams, readSnapshot } from '../src/snapshot/snapshot.js';
import { jsKernels } from '../src/tensor/kernels.js';
import { evaluate } from '../src/train/evaluate.js';
import { writeCifar10Folder } from './support/cifar10.js';
import { dlt, tempDir } from './support/cli.js';
import { expectExit, trainRun } from './support/resumeSupport.js';
import { editHeader, type Header } from './support/snapshotEdit.js';

const tmp = tempDir('dlt-augment-splits-');
afterAll(() => tmp.cleanup());

const data = writeCifar10Folder(path.join(tmp.dir, 'cifar'), 24, 30);
const file = tmp.write(
  'augmented.yaml',
  `name: augmented
seed: 4
data:
  train: {format: cifar10, path: ${JSON.stringify(data)}}
  test: {format: cifar10, path: ${JSON.stringify(path.join(data, 'test_batch.bin'))}}
  validation: {fraction: 0.2}
  preprocess: {scale: 255}
  augment: [{type: random_crop, padding: 6}, {type: hflip, p: 0.5}, {type: random_translate, pixels: 4}, {type: gaussian_noise, std: 0.3}]
model:
  input: [3, 32, 32]
  layers: [{type: avgpool2d, size: 4}, flatten, {type: dense, units: 10, init: xavier}]
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
training: {epochs: 2, batch_size: 16, keep_snapshots: 2}
`,
);

/** The loss and accuracy of a snapshot's weights on `split`, computed here with no augmenter in sight. */
function direct(snapshotFile: string, split: 'val' | 'test', batchSize: number): { loss: number; accuracy: number } {
  const snapshot = readSnapshot(snapshotFile);
  const { network, loss } = buildModel(snapshot.config, jsKernels);
  loadParams(network, snapshot);
  const splits = loadSplits(snapshot.config);
  const chosen: Split | undefined = splits[split];
  if (!chosen) throw new Error(`no ${split} split`);
  const { loss: value, accuracy } = evaluate(network, loss, Preprocessor.fit(snapshot.config.data.preprocess, splits.train), chosen, batchSize);
  return { loss: value, accuracy };
}

describe('data.augment leaves validation and test data alone', () => {
  let run: ReturnType<typeof trainRun>;
  let snapshots: string;
  beforeAll(() => {
    run = trainRun(file, path.join(tmp.dir, 'runs'), tmp.dir, {}, ['--backend', 'js']);
    snapshots = path.join(run.runDir, 'snapshots');
  });

  it('the validation records and the test result are those of the weights on unaugmented data', () => {
    expectExit(run, 0);
    const records = readFileSync(path.join(run.runDir, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { kind: string; epoch: number; val_loss: number; val_accuracy: number });
    const epochs = records.filter((r) => r.kind === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const record of epochs) {
      const own = direct(path.join(snapshots, `epoch-000${record.epoch}.safetensors`), 'val', 16);
      expect({ loss: record.val_loss, accuracy: record.val_accuracy }, `epoch ${record.epoch}`).toEqual(own);
    }
    const summary = JSON.parse(readFileSync(path.join(run.runDir, 'summary.json'), 'utf8')) as { test_loss: number; test_accuracy: number };
    expect({ loss: summary.test_loss, accuracy: summary.test_accuracy }).toEqual(direct(path.join(snapshots, 'latest.safetensors'), 'test', 16));
  });

  it('dlt eval gives on every split what the same weights give in a config without data.augment', () => {
    expectExit(run, 0);
    const original = path.join(snapshots, 'latest.safetensors');
    const plain = path.join(tmp.dir, 'plain.safetensors');
    copyFileSync(original, plain);
    editHeader(
      plain,
      (header) => {
        const metadata = header.__metadata__ as Header;
        const config = JSON.parse(String(metadata.config)) as { data: Record<string, unknown> };
        delete config.data.augment;
        metadata.config = JSON.stringify(config);
        const state = JSON.parse(String(metadata.state)) as Record<string, unknown>;
        delete state.augment_rng;
        metadata.state = JSON.stringify(state);
      },
      true,
    );
    for (const split of ['test', 'val', 'train']) {
      const augmented = dlt(['eval', original, '--split', split, '--json', '--backend', 'js'], tmp.dir);
      const without = dlt(['eval', plain, '--split', split, '--json', '--backend', 'js'], tmp.dir);
      expectExit(augmented, 0);
      expectExit(without, 0);
      expect(JSON.parse(augmented.stdout), split).toEqual(JSON.parse(without.stdout));
    }
    expect(JSON.parse(dlt(['eval', original, '--json', '--backend', 'js'], tmp.dir).stdout)).toMatchObject(direct(original, 'test', 256));
  });
});
