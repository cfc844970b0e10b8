/**
 * Exact resume with data augmentation: the "augment" stream's state is in every snapshot
 * of a run that augments, so a run stopped mid-epoch (DLT_INTERRUPT_AT_STEP) and resumed
 * in a fresh process ends bit for bit where the uninterrupted run ends, with every
 * transform on, on both backends. A snapshot of an augmenting run without the stream's
 * state is refused.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeStatus } from '../src/tensor/native.js';
import { writeCifar10Folder } from './support/cifar10.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { expectExit, expectSameRun, snapshotFingerprint, snapshotState, trainRun } from './support/resumeSupport.js';
import { editState } from './support/snapshotEdit.js';

const tmp = tempDir('dlt-augment-resume-');
afterAll(() => tmp.cleanup());

const status = nativeStatus();
const skipNative = status.loaded ? '' : ` (skipped: native backend ${status.reason})`;

/** 5 × 24 CIFAR-10-shaped images [3, 32, 32], 20% held out: 96 training samples, 6 steps of 16 per epoch. */
const data = writeCifar10Folder(path.join(tmp.dir, 'cifar'), 24, 20);
const STEPS_PER_EPOCH = 6;

const EVERY_TRANSFORM = `
    - {type: random_crop, padding: 4}
    - {type: hflip, p: 0.5}
    - {type: random_translate, pixels: 3}
    - {type: gaussian_noise, std: 0.1}`;

function config(name: string, augment: string | undefined): string {
  return tmp.write(
    `${name}.yaml`,
    `name: ${name}
seed: 3
data:
  train: {format: cifar10, path: ${JSON.stringify(data)}}
  test: {format: cifar10, path: ${JSON.stringify(path.join(data, 'test_batch.bin'))}}
  validation: {fraction: 0.2}
  preprocess: {standardize: true}
${augment ? `  augment:${augment}\n` : ''}model:
  input: [3, 32, 32]
  layers:
    - {type: avgpool2d, size: 4}                            # [3, 8, 8]
    - {type: conv2d, filters: 4, kernel: 3, padding: same}  # [4, 8, 8]
    - relu
    - {type: maxpool2d, size: 2}                            # [4, 4, 4]
    - flatten
    - {type: dense, units: 10, init: xavier}
optimizer: {type: adam, lr: 0.01}
training: {epochs: 3, batch_size: 16, log_every: 2, loss_window: 4}
`,
  );
}

const augmented = config('augmented', EVERY_TRANSFORM);

let outs = 0;
const out = () => path.join(tmp.dir, `out-${++outs}`);
const train = (file: string, backend: string, env: Record<string, string> = {}) => trainRun(file, out(), tmp.dir, env, ['--backend', backend]);
const resume = (runDir: string, backend: string, env: Record<string, string> = {}, extra: string[] = []) =>
  dlt(['resume', runDir, '--backend', backend, ...extra], tmp.dir, env);
const latest = (runDir: string) => path.join(runDir, 'snapshots', 'latest.safetensors');

describe.each([
  ['js', ''],
  ['native', skipNative],
])('data.augment and resume (%s backend)', (backend, skip) => {
  it.skipIf(skip !== '')(`stopped mid-epoch twice and resumed, it ends bit for bit as the run that never stopped${skip}`, () => {
    const reference = train(augmented, backend);
    expectExit(reference, 0);
    const state = snapshotState(latest(reference.runDir));
    expect(state.augment_rng, 'the stream is in the snapshot').toHaveLength(4);

    const first = train(augmented, backend, { DLT_INTERRUPT_AT_STEP: '4' });
    expectExit(first, 130);
    expect(snapshotState(latest(first.runDir))).toMatchObject({ epoch: 0, batch: 4 });
    const second = resume(first.runDir, backend, { DLT_INTERRUPT_AT_STEP: String(STEPS_PER_EPOCH + 3) });
    expectExit(second, 130);
    expect(snapshotState(latest(first.runDir))).toMatchObject({ epoch: 1, batch: 3 });
    expectExit(resume(first.runDir, backend), 0);
    expectSameRun(first.runDir, reference.runDir);
  });
});

describe('the augment stream in snapshots', () => {
  it('augmentation changes training, and a run without it has no augment_rng', () => {
    const plain = train(config('plain', undefined), 'js');
    const withAug = train(augmented, 'js');
    expectExit(plain, 0);
    expectExit(withAug, 0);
    expect(snapshotState(latest(plain.runDir))).not.toHaveProperty('augment_rng');
    expect(snapshotFingerprint(latest(withAug.runDir)).tensors).not.toEqual(snapshotFingerprint(latest(plain.runDir)).tensors);
  });

  it('a resumed run draws from the saved stream: another stream state gives other weights', () => {
    const reference = train(augmented, 'js');
    const stopped = train(augmented, 'js', { DLT_INTERRUPT_AT_STEP: '2' });
    expectExit(stopped, 130);
    editState(latest(stopped.runDir), (s) => {
      s.augment_rng = [1, 2, 3, 4];
    });
    expectExit(resume(stopped.runDir, 'js'), 0);
    expect(snapshotFingerprint(latest(stopped.runDir)).tensors).not.toEqual(snapshotFingerprint(latest(reference.runDir)).tensors);
  });

  it('refuses a snapshot of an augmenting run without the stream (exit 2, naming the file), and one that has it without data.augment', () => {
    const stopped = train(augmented, 'js', { DLT_INTERRUPT_AT_STEP: '3' });
    expectExit(stopped, 130);
    const file = latest(stopped.runDir);
    editState(file, (s) => {
      delete s.augment_rng;
    });
    const stderr = expectInputError(resume(stopped.runDir, 'js'));
    expect(stderr).toContain(file);
    expect(stderr).toContain('its config augments the training data (data.augment) but the state has no augment_rng');

    const plain = train(config('plain-stopped', undefined), 'js', { DLT_INTERRUPT_AT_STEP: '3' });
    expectExit(plain, 130);
    editState(latest(plain.runDir), (s) => {
      s.augment_rng = [1, 2, 3, 4];
    });
    expect(expectInputError(resume(plain.runDir, 'js'))).toContain('it has an augment_rng but its config has no data.augment');
  });

  it('dlt resume --set data.augment adds augmentation to a run that had none, its stream starting from the seed', () => {
    const runs = [0, 1].map(() => {
      const r = train(config('late', undefined), 'js', { DLT_INTERRUPT_AT_STEP: String(STEPS_PER_EPOCH) });
      expectExit(r, 130);
      const resumed = resume(r.runDir, 'js', {}, ['--set', 'data.augment=[hflip, {type: random_crop, padding: 2}]']);
      expectExit(resumed, 0);
      expect(resumed.stdout).toContain('config change: data.augment: unset → [{"type":"hflip","p":0.5},{"type":"random_crop","padding":2}]');
      expect(snapshotState(latest(r.runDir)).augment_rng).toHaveLength(4);
      return r.runDir;
    });
    expect(existsSync(path.join(runs[0]!, 'summary.json'))).toBe(true);
    expectSameRun(runs[1]!, runs[0]!, 'the same resume again');
  });
});
