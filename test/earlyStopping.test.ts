/**
 * training.early_stopping (src/train/earlyStopping.ts): the rule on scripted metrics, and
 * end to end — where a run stops, what it records, restore_best byte for byte, and a
 * resume from inside the patience window (or after the stop, before summary.json) ending
 * exactly as the run that never stopped.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EarlyStoppingSpec } from '../src/config/schema.js';
import type { EpochMetrics } from '../src/schedule/schedule.js';
import { EarlyStopping } from '../src/train/earlyStopping.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { expectExit, expectSameRun, metricsWithoutClock, snapshotFingerprint, summaryWithoutClock, trainRun } from './support/resumeSupport.js';

const tmp = tempDir('dlt-early-stop-');
afterAll(() => tmp.cleanup());

const spec = (over: Partial<EarlyStoppingSpec>): EarlyStoppingSpec => ({
  monitor: 'val_loss',
  patience: 2,
  min_delta: 0,
  restore_best: true,
  ...over,
});
const val = (v: number | null): EpochMetrics => ({ train_loss_avg: 1, val_loss: v, val_accuracy: v });

/** The epoch at which the rule stops on these values (null: never), and the best epoch then. */
function stopsAt(s: EarlyStoppingSpec, values: (number | null)[]): { stop: number | null; best: number } {
  const rule = new EarlyStopping(s);
  for (const [i, v] of values.entries()) {
    if (rule.epochEnd(i + 1, val(v)).stop) return { stop: i + 1, best: rule.bestEpoch };
  }
  return { stop: null, best: rule.bestEpoch };
}

describe('the rule, on scripted metrics', () => {
  it('losses must fall, accuracy rise; the first evaluated epoch always improves', () => {
    expect(stopsAt(spec({ monitor: 'val_loss' }), [1, 0.9, 0.95, 0.91, 0.8])).toEqual({ stop: 4, best: 2 });
    expect(stopsAt(spec({ monitor: 'val_accuracy' }), [0.5, 0.6, 0.55, 0.59, 0.9])).toEqual({ stop: 4, best: 2 });
    expect(stopsAt(spec({ monitor: 'val_accuracy' }), [0.5, 0.4, 0.45])).toEqual({ stop: 3, best: 1 });
  });

  it('train_loss_avg is watched like a loss', () => {
    const rule = new EarlyStopping(spec({ monitor: 'train_loss_avg', patience: 0 }));
    expect(rule.epochEnd(1, { train_loss_avg: 2, val_loss: null, val_accuracy: null })).toEqual({ improved: true, stop: false });
    expect(rule.epochEnd(2, { train_loss_avg: 2, val_loss: null, val_accuracy: null })).toEqual({ improved: false, stop: true });
  });

  it('min_delta: an improvement must beat the best by more than it', () => {
    // 0.95 and 0.905 are within 0.1 of 1 and 0.95... only 0.85 improves on 1 by more than 0.1.
    expect(stopsAt(spec({ min_delta: 0.1, patience: 3 }), [1, 0.95, 0.905, 0.85, 0.8])).toEqual({ stop: null, best: 4 });
    expect(stopsAt(spec({ min_delta: 0.1, patience: 2 }), [1, 0.95, 0.905, 0.85])).toEqual({ stop: 3, best: 1 });
    expect(stopsAt(spec({ monitor: 'val_accuracy', min_delta: 0.05, patience: 1 }), [0.5, 0.54])).toEqual({ stop: 2, best: 1 });
  });

  it('patience 0 stops at the first epoch without improvement; epochs without validation count for nothing', () => {
    expect(stopsAt(spec({ patience: 0 }), [1, 0.5, 0.7])).toEqual({ stop: 3, best: 2 });
    expect(stopsAt(spec({ patience: 1 }), [1, null, null, 1.2, null])).toEqual({ stop: 4, best: 1 });
  });

  it('its state survives a round trip and goes on identically', () => {
    const values = [1, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77];
    const whole = stopsAt(spec({ patience: 3 }), values);
    for (let k = 0; k <= values.length; k++) {
      const first = new EarlyStopping(spec({ patience: 3 }));
      for (const [i, v] of values.slice(0, k).entries()) first.epochEnd(i + 1, val(v));
      const second = new EarlyStopping(spec({ patience: 3 }));
      second.fromState(JSON.parse(JSON.stringify(first.toState())));
      let stop: number | null = null;
      for (const [i, v] of values.slice(k).entries()) if (stop === null && second.epochEnd(k + i + 1, val(v)).stop) stop = k + i + 1;
      if (first.stoppedAt === null) expect({ stop, best: second.bestEpoch }, `k = ${k}`).toEqual(whole);
    }
  });
});

const config = (early: string, extra = '') => `name: early
seed: 4
data:
  train: {format: spiral, classes: 3, points_per_class: 60, noise: 0.3}
  test: {format: spiral, classes: 3, points_per_class: 20, noise: 0.3}
  validation: {fraction: 0.3}
model:
  input: [2]
  layers: [{type: dense, units: 32}, relu, {type: dense, units: 3}]
optimizer: {type: sgd, lr: 0.2, momentum: 0.9}
training: {epochs: 60, batch_size: 16, keep_snapshots: 2, log_every: 5, early_stopping: ${early}${extra}}
`;
// 126 training samples at batch 16: 8 steps an epoch.
const STEPS_PER_EPOCH = 8;

describe('a run that stops early', () => {
  const file = tmp.write('early.yaml', config('{monitor: val_loss, patience: 3}'));
  const run = trainRun(file, path.join(tmp.dir, 'reference'), tmp.dir);
  const records = () => metricsWithoutClock(run.runDir);

  it('stops where the rule says on its own validation losses, records it, prints one line', () => {
    expectExit(run, 0);
    const epochs = records().filter((r) => r.kind === 'epoch') as { epoch: number; val_loss: number }[];
    const expected = stopsAt(
      spec({ patience: 3 }),
      epochs.map((e) => e.val_loss),
    );
    expect(expected.stop).toBe(epochs.length);
    expect(expected.stop).toBeLessThan(60);
    const stop = records().filter((r) => r.kind === 'early_stop');
    expect(stop).toEqual([
      { kind: 'early_stop', epoch: expected.stop, best_epoch: expected.best, monitor: 'val_loss', best: epochs[expected.best - 1]!.val_loss },
    ]);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('early stop after epoch'))).toHaveLength(1);
    const summary = JSON.parse(readFileSync(path.join(run.runDir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ stopped_early: true, best_epoch: expected.best, epochs: expected.stop });
  });

  it("restore_best: latest holds the best epoch's tensors byte for byte, and the test evaluation used them", () => {
    const summary = JSON.parse(readFileSync(path.join(run.runDir, 'summary.json'), 'utf8'));
    const best = path.join(run.runDir, 'snapshots', `epoch-${String(summary.best_epoch).padStart(4, '0')}.safetensors`);
    const latest = path.join(run.runDir, 'snapshots', 'latest.safetensors');
    expect(snapshotFingerprint(latest).tensors).toEqual(snapshotFingerprint(best).tensors);
    const evaluated = dlt(['eval', best, '--json'], tmp.dir);
    expectExit(evaluated, 0);
    expect(JSON.parse(evaluated.stdout).accuracy).toBe(summary.test_accuracy);
  });

  it('without restore_best the run ends with the stopping epoch’s parameters', () => {
    const plain = trainRun(
      tmp.write('plain.yaml', config('{monitor: val_loss, patience: 3, restore_best: false}')),
      path.join(tmp.dir, 'plain'),
      tmp.dir,
    );
    expectExit(plain, 0);
    const summary = JSON.parse(readFileSync(path.join(plain.runDir, 'summary.json'), 'utf8'));
    const stopFile = path.join(plain.runDir, 'snapshots', `epoch-${String(summary.epochs).padStart(4, '0')}.safetensors`);
    expect(snapshotFingerprint(path.join(plain.runDir, 'snapshots', 'latest.safetensors')).tensors).toEqual(snapshotFingerprint(stopFile).tensors);
  });

  it('interrupted inside the patience window and resumed: stops at the same epoch, bit for bit', () => {
    const summary = JSON.parse(readFileSync(path.join(run.runDir, 'summary.json'), 'utf8'));
    const step = (summary.best_epoch + 1) * STEPS_PER_EPOCH - 3; // inside the epoch after the best
    const stopped = trainRun(file, path.join(tmp.dir, 'window'), tmp.dir, { DLT_INTERRUPT_AT_STEP: String(step) });
    expectExit(stopped, 130);
    const resumed = dlt(['resume', stopped.runDir], tmp.dir);
    expectExit(resumed, 0);
    expectSameRun(stopped.runDir, run.runDir);
  });

  it('stopped after its last snapshot but before summary.json: resume finishes it, the same summary', () => {
    const again = trainRun(file, path.join(tmp.dir, 'unfinished'), tmp.dir);
    expectExit(again, 0);
    rmSync(path.join(again.runDir, 'summary.json'));
    const r = dlt(['resume', again.runDir], tmp.dir);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/the run stopped early at epoch \d+ but the run has no summary\.json: finishing it/);
    expect(summaryWithoutClock(again.runDir)).toEqual(summaryWithoutClock(run.runDir));
  });

  it('a finished early-stopped run is not trained further', () => {
    const msg = expectInputError(dlt(['resume', run.runDir, '--epochs', '70'], tmp.dir));
    expect(msg).toMatch(/the run stopped early at epoch \d+ \(training\.early_stopping\), so it has nothing left to train/);
  });
});

describe('a run that trains all its epochs with early stopping on', () => {
  const short = (early: string) => config(early).replace('epochs: 60', 'epochs: 12');

  it("restore_best: it ends with the best epoch's parameters too, and is not trained further", () => {
    const run = trainRun(tmp.write('all.yaml', short('{monitor: val_loss, patience: 50}')), path.join(tmp.dir, 'all'), tmp.dir);
    expectExit(run, 0);
    const summary = JSON.parse(readFileSync(path.join(run.runDir, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ stopped_early: false, epochs: 12 });
    const epochs = metricsWithoutClock(run.runDir).filter((r) => r.kind === 'epoch') as { val_loss: number }[];
    expect(summary.best_epoch).toBe(
      stopsAt(
        spec({ patience: 50 }),
        epochs.map((e) => e.val_loss),
      ).best,
    );
    expect(summary.best_epoch).toBeLessThan(12); // else this test shows nothing
    const best = path.join(run.runDir, 'snapshots', `epoch-${String(summary.best_epoch).padStart(4, '0')}.safetensors`);
    expect(snapshotFingerprint(path.join(run.runDir, 'snapshots', 'latest.safetensors')).tensors).toEqual(snapshotFingerprint(best).tensors);
    expect(expectInputError(dlt(['resume', run.runDir, '--epochs', '20'], tmp.dir))).toMatch(
      /the run ended with epoch \d+'s parameters \(restore_best\) \(training\.early_stopping\), so it has nothing left to train/,
    );
  });

  it('without restore_best it ends with the last epoch, and --epochs trains it further', () => {
    const run = trainRun(
      tmp.write('open.yaml', short('{monitor: val_loss, patience: 50, restore_best: false}')),
      path.join(tmp.dir, 'open'),
      tmp.dir,
    );
    expectExit(run, 0);
    const last = path.join(run.runDir, 'snapshots', 'epoch-0012.safetensors');
    expect(snapshotFingerprint(path.join(run.runDir, 'snapshots', 'latest.safetensors')).tensors).toEqual(snapshotFingerprint(last).tensors);
    expectExit(dlt(['resume', run.runDir, '--epochs', '14'], tmp.dir), 0);
  });
});

describe('bad early_stopping configs', () => {
  it('a monitor that needs validation without a validation split: exit 2 naming both keys', () => {
    const text = config('{monitor: val_accuracy}').replace('  validation: {fraction: 0.3}\n', '');
    const msg = expectInputError(dlt(['train', tmp.write('no-val.yaml', text)], tmp.dir));
    expect(msg).toMatch(/training\.early_stopping\.monitor: val_accuracy needs a validation split, and data\.validation is not set/);
  });

  it('a misspelt key gets did-you-mean; a negative patience or min_delta is refused', () => {
    expect(expectInputError(dlt(['train', tmp.write('typo.yaml', config('{monitor: val_loss, patiense: 3}'))], tmp.dir))).toMatch(
      /unknown key "patiense"; did you mean "patience"\?/,
    );
    expect(expectInputError(dlt(['train', tmp.write('neg.yaml', config('{patience: -1}'))], tmp.dir))).toMatch(/patience: must be ≥ 0/);
    expect(expectInputError(dlt(['train', tmp.write('delta.yaml', config('{min_delta: -0.1}'))], tmp.dir))).toMatch(/min_delta: must be ≥ 0/);
    expect(expectInputError(dlt(['train', tmp.write('monitor.yaml', config('{monitor: val_acuracy}'))], tmp.dir))).toMatch(
      /did you mean "val_accuracy"\?/,
    );
  });
});
