/**
 * Exact resume (SPEC §5): a run interrupted at any step and continued with `dlt resume`
 * in a fresh process ends bit for bit where the uninterrupted run ends: parameters,
 * optimiser slots, training state, metrics.jsonl and summary.json (wall clock aside).
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import {
  expectExit,
  expectSameRun,
  hashTree,
  metricsWithoutClock,
  sha256,
  snapshotFiles,
  snapshotFingerprint,
  snapshotState,
  summaryWithoutClock,
  trainRun,
} from './support/resumeSupport.js';

const tmp = tempDir('dlt-resume-');
afterAll(() => tmp.cleanup());

/**
 * 165 spiral points, 20% held out → 132 training samples, batch 16 → 9 steps per epoch,
 * the last one partial (4 samples). loss_window 4 makes the rolling window wrap around
 * many times, log_every 2 puts step records between the epoch records.
 */
function config(name: string, optimizer: string, extra = ''): string {
  return `name: ${name}
seed: 11
data:
  train: {format: spiral, classes: 3, points_per_class: 55, noise: 0.15}
  test: {format: spiral, classes: 3, points_per_class: 20, noise: 0.15}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers:
    - {type: dense, units: 24}
    - relu
${extra.includes('dropout') ? '    - {type: dropout, rate: 0.3}\n' : ''}    - {type: dense, units: 3, init: xavier}
optimizer: ${optimizer}
training: {epochs: 4, batch_size: 16, log_every: 2, loss_window: 4, keep_snapshots: 3}
${extra.replace('dropout', '')}
`;
}

const STEPS_PER_EPOCH = 9;

const cases = {
  'sgd + momentum, step schedule': config('sgd', '{type: sgd, lr: 0.1, momentum: 0.9}', 'schedule: {type: step, every: 2, factor: 0.5}'),
  'adam, plateau on val_accuracy, dropout, l2': config(
    'adam',
    '{type: adam, lr: 0.01}',
    'dropout\nschedule: {type: plateau, monitor: val_accuracy, patience: 0, factor: 0.5}\nregularization: {l2: 0.001}',
  ),
  rmsprop: config('rmsprop', '{type: rmsprop, lr: 0.005}'),
};

/** A fresh --out folder per run, so run directories never collide. */
let outs = 0;
function train(file: string, env: Record<string, string> = {}, extra: string[] = []) {
  return trainRun(file, path.join(tmp.dir, `out-${++outs}`), tmp.dir, env, extra);
}

function resume(runDir: string, env: Record<string, string> = {}, extra: string[] = []) {
  return dlt(['resume', runDir, ...extra], tmp.dir, env);
}

/** Train with DLT_INTERRUPT_AT_STEP=k: exit 130, latest.safetensors at step k. */
function interruptedAt(file: string, k: number) {
  const r = train(file, { DLT_INTERRUPT_AT_STEP: String(k) });
  expectExit(r, 130);
  expect(r.stderr).toMatch(new RegExp(`interrupted after step ${k}\\b`));
  expect(r.stderr).toContain(path.join(r.runDir, 'snapshots', 'latest.safetensors'));
  expect(r.stderr).toContain(`dlt resume ${r.runDir}`);
  const latest = path.join(r.runDir, 'snapshots', 'latest.safetensors');
  const state = snapshotState(latest);
  expect(state.step).toBe(k);
  // metrics is metrics.jsonl when the snapshot was taken: its records, and the last one's hash
  const lines = readFileSync(path.join(r.runDir, 'metrics.jsonl'), 'utf8').split('\n').slice(0, -1);
  expect(state.metrics).toEqual({ records: lines.length, last_sha256: lines.length ? sha256(lines.at(-1)!) : null });
  return { runDir: r.runDir, state };
}

describe.each(Object.entries(cases))('exact resume: %s', (name, text) => {
  const file = tmp.write(`${name.replace(/\W+/g, '-')}.yaml`, text);
  // The uninterrupted run, trained by the first test that needs it (so -t filters work).
  let referenceDir: string | undefined;
  const reference = (): string => {
    if (referenceDir === undefined) {
      const r = train(file);
      expectExit(r, 0);
      referenceDir = r.runDir;
    }
    return referenceDir;
  };

  it('trains uninterrupted (the reference)', () => {
    expect(summaryWithoutClock(reference())).toMatchObject({ epochs: 4, steps: 4 * STEPS_PER_EPOCH });
  });

  it('interrupted mid-epoch and resumed in a fresh process, ends bit for bit where the reference ends', () => {
    const { runDir, state } = interruptedAt(file, 13);
    expect(state).toMatchObject({ epoch: 1, batch: 4, step: 13 });
    const r = resume(runDir);
    expectExit(r, 0);
    expect(r.stdout).toContain(`resuming from ${path.join(runDir, 'snapshots', 'latest.safetensors')}: 1 epochs and 4 batches done, step 13`);
    expectSameRun(runDir, reference());
  });

  it('interrupted twice (steps 5 and 22) still matches', () => {
    const { runDir } = interruptedAt(file, 5);
    const second = resume(runDir, { DLT_INTERRUPT_AT_STEP: '22' });
    expectExit(second, 130);
    expect(snapshotState(path.join(runDir, 'snapshots', 'latest.safetensors'))).toMatchObject({ epoch: 2, batch: 4, step: 22 });
    const r = resume(runDir);
    expectExit(r, 0);
    expectSameRun(runDir, reference());
  });

  it('interrupted after the last batch of an epoch, before its end-of-epoch work, still matches', () => {
    const { runDir, state } = interruptedAt(file, 2 * STEPS_PER_EPOCH);
    expect(state).toMatchObject({ epoch: 1, batch: STEPS_PER_EPOCH, step: 2 * STEPS_PER_EPOCH });
    const r = resume(runDir);
    expectExit(r, 0);
    expectSameRun(runDir, reference());
    // The resumed process trained no sample of epoch 2 (9 batches of 16 > 132 samples):
    // its throughput is 0, not negative.
    const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const e of records.filter((m) => m.kind === 'epoch')) expect(e.samples_per_s, `epoch ${e.epoch}`).toBeGreaterThanOrEqual(0);
  });

  it('interrupted at the very first step still matches', () => {
    const { runDir } = interruptedAt(file, 1);
    const r = resume(runDir);
    expectExit(r, 0);
    expectSameRun(runDir, reference());
  });

  it('stopped after its final snapshot but before summary.json: resume finishes it', () => {
    const r = train(file);
    expectExit(r, 0);
    // What a kill between the last snapshot and the summary leaves behind.
    rmSync(path.join(r.runDir, 'summary.json'));
    const snapshotsBefore = snapshotFiles(r.runDir).map((f) => snapshotFingerprint(path.join(r.runDir, f)));
    const finished = resume(r.runDir);
    expectExit(finished, 0);
    expect(finished.stdout).toContain('every epoch is done but the run has no summary.json: finishing it');
    expectSameRun(r.runDir, reference());
    expect(snapshotFiles(r.runDir).map((f) => snapshotFingerprint(path.join(r.runDir, f)))).toEqual(snapshotsBefore);
  });
});

describe('dlt resume --epochs and --set', () => {
  const sgd = tmp.write('sgd-extend.yaml', cases['sgd + momentum, step schedule']);

  it('--epochs 6 on a finished 4-epoch run equals a 6-epoch run', () => {
    const four = train(sgd);
    expectExit(four, 0);
    const r = resume(four.runDir, {}, ['--epochs', '6']);
    expectExit(r, 0);
    expect(r.stdout).toContain('config change: training.epochs: 4 → 6');
    const six = train(sgd, {}, ['--set', 'training.epochs=6']);
    expectExit(six, 0);

    expect(metricsWithoutClock(four.runDir)).toEqual(metricsWithoutClock(six.runDir));
    expect(summaryWithoutClock(four.runDir)).toEqual(summaryWithoutClock(six.runDir));
    expect(parseYaml(readFileSync(path.join(four.runDir, 'config.yaml'), 'utf8'))).toEqual(
      parseYaml(readFileSync(path.join(six.runDir, 'config.yaml'), 'utf8')),
    );
    // Snapshots written before the extension record epochs: 4 in their config; tensors and state agree.
    expect(snapshotFiles(four.runDir)).toEqual(snapshotFiles(six.runDir));
    for (const f of snapshotFiles(six.runDir)) {
      const a = snapshotFingerprint(path.join(four.runDir, f));
      const b = snapshotFingerprint(path.join(six.runDir, f));
      expect(a.tensors, f).toEqual(b.tensors);
      expect(a.state, f).toEqual(b.state);
    }
    expect(snapshotState(path.join(four.runDir, 'snapshots', 'latest.safetensors'))).toMatchObject({ epoch: 6, step: 6 * STEPS_PER_EPOCH });
  });

  it('--epochs extends a run interrupted mid-epoch too', () => {
    const { runDir } = interruptedAt(sgd, 30);
    const r = resume(runDir, {}, ['--epochs', '6']);
    expectExit(r, 0);
    const six = train(sgd, {}, ['--set', 'training.epochs=6']);
    expect(metricsWithoutClock(runDir)).toEqual(metricsWithoutClock(six.runDir));
    expect(snapshotFingerprint(path.join(runDir, 'snapshots', 'latest.safetensors'))).toEqual(
      snapshotFingerprint(path.join(six.runDir, 'snapshots', 'latest.safetensors')),
    );
  });

  it('a finished run (one with summary.json) is refused without --epochs, and left unchanged', () => {
    const four = train(sgd);
    expectExit(four, 0);
    const before = hashTree(four.runDir);
    const msg = expectInputError(resume(four.runDir));
    expect(msg).toMatch(/already completed its 4 epochs; use --epochs N to train further/);
    expect(hashTree(four.runDir)).toEqual(before);
  });

  it('--epochs not above the epochs done is refused', () => {
    const { runDir } = interruptedAt(sgd, 30); // epoch 4 under way
    const before = hashTree(runDir);
    const msg = expectInputError(resume(runDir, {}, ['--epochs', '3']));
    expect(msg).toMatch(/--epochs 3 is not more than the 3 epochs already done/);
    expect(hashTree(runDir)).toEqual(before);
  });

  it('--set optimizer.lr is printed as a diff, recorded in config.yaml, and used from the next step', () => {
    const { runDir } = interruptedAt(sgd, 4);
    const r = resume(runDir, {}, ['--set', 'optimizer.lr=0.05']);
    expectExit(r, 0);
    expect(r.stdout + r.stderr).toContain('config change: optimizer.lr: 0.1 → 0.05');
    expect(parseYaml(readFileSync(path.join(runDir, 'config.yaml'), 'utf8')).optimizer.lr).toBe(0.05);
    // step records after step 4 show the new lr (the step schedule drops it only after epoch 2)
    const steps = metricsWithoutClock(runDir).filter((m) => m.kind === 'step');
    expect(steps.find((m) => m.step === 4)!.lr).toBe(0.1);
    expect(steps.find((m) => m.step === 6)!.lr).toBe(0.05);
    expect(snapshotFingerprint(path.join(runDir, 'snapshots', 'latest.safetensors')).config).toMatchObject({ optimizer: { lr: 0.05 } });
  });

  it('--set optimizer.lr under a plateau schedule keeps the drops taken: the rate it reached, scaled by new / old base', () => {
    // the plateau halves the lr after epoch 2 (0.01 → 0.005); step 22 is in epoch 3
    const { runDir } = interruptedAt(tmp.write('plateau-set-lr.yaml', cases['adam, plateau on val_accuracy, dropout, l2']), 22);
    const r = resume(runDir, {}, ['--set', 'optimizer.lr=0.02']);
    expectExit(r, 0);
    expect(r.stdout + r.stderr).toContain('config change: optimizer.lr: 0.01 → 0.02');
    const records = metricsWithoutClock(runDir) as Array<{ kind: string; step?: number; epoch?: number; lr?: number }>;
    expect(records.find((m) => m.kind === 'lr_drop')).toMatchObject({ epoch: 2, from: 0.01, to: 0.005 });
    const lrAt = (step: number) => records.find((m) => m.kind === 'step' && m.step === step)!.lr;
    expect([20, 22, 24, 26].map(lrAt)).toEqual([0.005, 0.005, 0.01, 0.01]);
    expect(records.find((m) => m.kind === 'epoch' && m.epoch === 3)!.lr).toBe(0.01);
  });

  it('--set model.layers.0.units is refused with exit 2 and leaves every file unchanged', () => {
    const { runDir } = interruptedAt(sgd, 13);
    const before = hashTree(runDir);
    const msg = expectInputError(resume(runDir, {}, ['--set', 'model.layers.0.units=32']));
    expect(msg).toContain(runDir);
    expect(msg).toContain('cannot resume with model.layers.0.units: 24 → 32');
    expect(hashTree(runDir)).toEqual(before);
    // and the run is still resumable as it was
    expectExit(resume(runDir), 0);
  });

  it('a change of optimiser type or seed is refused too, leaving the files unchanged', () => {
    const { runDir } = interruptedAt(sgd, 13);
    const before = hashTree(runDir);
    // (adam has no momentum: the changed config fails validation before the type check)
    expect(expectInputError(resume(runDir, {}, ['--set', 'optimizer.type=adam']))).toMatch(/optimizer\.(type|momentum)/);
    expect(expectInputError(resume(runDir, {}, ['--set', 'seed=12']))).toMatch(/seed: 11 → 12/);
    expect(expectInputError(resume(runDir, {}, ['--set', 'training.batch_size=8']))).toMatch(/batch size can change only at an epoch boundary/);
    expect(hashTree(runDir)).toEqual(before);
  });
});
