/**
 * A loss that becomes NaN/Inf (SPEC §2: exit 1). `on_nan: stop` ends the run at once
 * with a hint to lower the learning rate; `on_nan: rollback` reloads the last good
 * snapshot with a tenth of the learning rate, up to 3 times, then stops. Either way the
 * snapshots already written stay intact.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/snapshot/safetensors.js';
import { dlt, tempDir } from './support/cli.js';
import {
  expectExit,
  expectSameRun,
  metricsWithoutClock,
  sha256,
  snapshotFiles,
  snapshotFingerprint,
  snapshotState,
  trainRun,
} from './support/resumeSupport.js';

const tmp = tempDir('dlt-nan-');
afterAll(() => tmp.cleanup());

/**
 * A linear model under the squared loss with a far too large learning rate: every step
 * multiplies the error by a large factor, so the loss overflows to Infinity within a few
 * steps (step 3 here, after two good epochs of one step each), and a tenth of the rate,
 * or a thousandth, diverges just the same from the last good snapshot.
 */
const config = (onNan: string, lr = 1e5) => `name: nan
seed: 2
data:
  train: {format: spiral, classes: 3, points_per_class: 40, noise: 0.15}
  test: {format: spiral, classes: 3, points_per_class: 10, noise: 0.15}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers: [{type: dense, units: 16}, {type: dense, units: 3}]
loss: squared
optimizer: {type: sgd, lr: ${lr}}
training: {epochs: 30, batch_size: 96, snapshot_every: 1, keep_snapshots: 5, on_nan: ${onNan}, log_every: 1}
`;

type NanRecord = { kind: 'nan'; epoch: number; step: number; loss: number | null; lr: number; action: string };
const noStack = /\n\s+at .+:\d+:\d+/;

/** Every snapshot file of the run verifies and holds finite numbers only. */
function expectIntactFiniteSnapshots(runDir: string): void {
  for (const f of snapshotFiles(runDir)) {
    const { tensors } = readSafetensors(path.join(runDir, f)); // checks the sha256 too
    for (const [name, t] of tensors) expect(Array.from(t.data).every(Number.isFinite), `${f}: ${name}`).toBe(true);
  }
}

describe('on_nan: rollback', () => {
  const run = trainRun(tmp.write('rollback.yaml', config('rollback')), path.join(tmp.dir, 'rollback'), tmp.dir);
  const nans = () => metricsWithoutClock(run.runDir).filter((m) => m.kind === 'nan') as NanRecord[];

  it('rolls back three times, then stops with exit 1 and a clear message', () => {
    expectExit(run, 1);
    expect(run.stderr).not.toMatch(noStack);
    const warnings = run.stderr.split('\n').filter((l) => l.startsWith('warning: '));
    expect(warnings).toHaveLength(3);
    for (const [i, w] of warnings.entries()) {
      expect(w).toMatch(new RegExp(`the loss became (NaN|-?Infinity) at step 3; rolled back to step 2 \\(rollback ${i + 1} of 3\\), lr now `));
    }
    const error = run.stderr.split('\n').find((l) => l.startsWith('error: '))!;
    expect(error).toMatch(
      /the training loss became (NaN|-?Infinity) at epoch 3, step 3 after 3 rollbacks: the learning rate \S+ is probably too high/,
    );
    expect(error).toContain(`the last good snapshot is in ${run.runDir}`);
    // The suggested rate is below the last one that diverged.
    const suggested = Number(/try --set optimizer\.lr=(\S+)/.exec(error)![1]);
    expect(suggested).toBeGreaterThan(0);
    expect(suggested).toBeLessThan(nans().at(-1)!.lr);
  });

  it('records three rollbacks then a stop in metrics.jsonl, each at a tenth of the previous lr', () => {
    const records = nans();
    expect(records.map((r) => r.action)).toEqual(['rollback', 'rollback', 'rollback', 'stop']);
    for (const r of records) expect(r).toMatchObject({ epoch: 3, step: 3 });
    for (const [i, r] of records.entries()) expect(r.lr / 1e5).toBeCloseTo(0.1 ** i, 12);
    // After the nan records nothing else: the run stopped there.
    expect(metricsWithoutClock(run.runDir).at(-1)).toEqual(records.at(-1));
    // The epochs before were logged once each, not replayed into the log by the rollbacks.
    expect(
      metricsWithoutClock(run.runDir)
        .filter((m) => m.kind === 'epoch')
        .map((m) => m.epoch),
    ).toEqual([1, 2]);
    expect(existsSync(path.join(run.runDir, 'summary.json'))).toBe(false);
  });

  it('leaves the last good snapshot intact, as it was written at the end of epoch 2', () => {
    const latest = path.join(run.runDir, 'snapshots', 'latest.safetensors');
    expect(snapshotState(latest)).toMatchObject({ epoch: 2, batch: 0, step: 2, rollbacks: 0, schedule: { scale: 1 } });
    // latest and epoch-0002 were written from the same bytes; nothing rewrote either.
    expect(sha256(readFileSync(latest))).toBe(sha256(readFileSync(path.join(run.runDir, 'snapshots', 'epoch-0002.safetensors'))));
    expectIntactFiniteSnapshots(run.runDir);
    const r = dlt(['eval', latest, '--json'], tmp.dir);
    expectExit(r, 0);
    // (its weights are finite but huge, so the loss may overflow; the file itself loads)
    expect(JSON.parse(r.stdout)).toMatchObject({ split: 'test', samples: 30 });
  });
});

describe('on_nan: stop', () => {
  it('stops at the first NaN/Inf with exit 1 and the hint to lower the lr', () => {
    const run = trainRun(tmp.write('stop.yaml', config('stop')), path.join(tmp.dir, 'stop'), tmp.dir);
    expectExit(run, 1);
    expect(run.stderr).not.toMatch(noStack);
    expect(run.stderr).not.toMatch(/rolled back/);
    expect(run.stderr).toMatch(
      /^error: the training loss became (NaN|-?Infinity) at epoch 3, step 3: the learning rate 100000 is probably too high; try --set optimizer\.lr=10000 /m,
    );
    const nans = metricsWithoutClock(run.runDir).filter((m) => m.kind === 'nan');
    expect(nans).toEqual([{ kind: 'nan', epoch: 3, step: 3, loss: null, lr: 1e5, action: 'stop' }]);
    expect(snapshotState(path.join(run.runDir, 'snapshots', 'latest.safetensors'))).toMatchObject({ epoch: 2, step: 2 });
    expectIntactFiniteSnapshots(run.runDir);
  });
});

describe('on_nan: rollback across an interrupt', () => {
  // 2 steps per epoch; the loss overflows at step 6 with lr 1, and again after each
  // rollback. A rollback returns to the end of epoch 2 (step 4), not to the snapshot a
  // resumed run started from (step 5).
  const file = tmp.write('rollback-resume.yaml', config('rollback', 1).replace('batch_size: 96', 'batch_size: 48'));
  let referenceDir: string | undefined;
  const reference = (): string => {
    if (referenceDir === undefined) {
      const r = trainRun(file, path.join(tmp.dir, 'rr-ref'), tmp.dir);
      expectExit(r, 1);
      referenceDir = r.runDir;
    }
    return referenceDir;
  };

  it('a run interrupted mid-epoch before the NaN rolls back exactly as the uninterrupted one', () => {
    const run = trainRun(file, path.join(tmp.dir, 'rr'), tmp.dir, { DLT_INTERRUPT_AT_STEP: '5' });
    expectExit(run, 130);
    const r = dlt(['resume', run.runDir], tmp.dir);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/rolled back to step 4 \(rollback 1 of 3\)/);
    // latest is epoch 2's snapshot again, as in the uninterrupted run, not the step 5 one.
    expectSameRollbackRun(run.runDir, reference());
  });

  it('interrupted again after each of two rollbacks, it still ends as the uninterrupted run', () => {
    const run = trainRun(file, path.join(tmp.dir, 'rr-chain'), tmp.dir, { DLT_INTERRUPT_AT_STEP: '5' });
    expectExit(run, 130);
    // Each resume starts at step 5, overflows at step 6, rolls back to step 4 and stops
    // after step 5 again: the next resume must rebuild the rollback point from epoch 2's
    // snapshot with the rollback count and lr scale reached since.
    for (const n of [1, 2]) {
      const r = dlt(['resume', run.runDir], tmp.dir, { DLT_INTERRUPT_AT_STEP: '5' });
      expectExit(r, 130);
      expect(r.stderr).toMatch(new RegExp(`rolled back to step 4 \\(rollback ${n} of 3\\)`));
      expect(snapshotState(path.join(run.runDir, 'snapshots', 'latest.safetensors'))).toMatchObject({
        step: 5,
        rollbacks: n,
        last_good: { epoch: 2 },
      });
    }
    expectExit(dlt(['resume', run.runDir], tmp.dir), 1);
    expectSameRollbackRun(run.runDir, reference());
  });

  it('without the epoch snapshot to return to, warns and rolls back to the snapshot resumed from', () => {
    const run = trainRun(file, path.join(tmp.dir, 'rr-gone'), tmp.dir, { DLT_INTERRUPT_AT_STEP: '5' });
    expectExit(run, 130);
    rmSync(path.join(run.runDir, 'snapshots', 'epoch-0002.safetensors'));
    const r = dlt(['resume', run.runDir], tmp.dir);
    expectExit(r, 1);
    expect(r.stderr).toMatch(
      /^warning: on_nan: rollback would return to \S+epoch-0002\.safetensors, which is unusable \(.+\); a NaN will roll back to the snapshot resumed from instead$/m,
    );
    expect(r.stderr).toMatch(/rolled back to step 5 \(rollback 1 of 3\)/);
    expect(r.stderr).not.toMatch(noStack);
  });

  it('rolls back to the initial state after a resume in epoch 1, and goes on as the uninterrupted run', () => {
    // Batches of 8 (12 steps an epoch) at lr 0.5: the loss overflows at step 7; from the
    // initial weights a twentieth of the rate converges, and the run completes.
    const early = tmp.write(
      'rollback-initial.yaml',
      config('rollback', 0.5).replace('batch_size: 96', 'batch_size: 8').replace('epochs: 30', 'epochs: 3'),
    );
    const ref = trainRun(early, path.join(tmp.dir, 'ri-ref'), tmp.dir);
    expectExit(ref, 0);
    expect(metricsWithoutClock(ref.runDir).filter((m) => m.kind === 'nan')).toMatchObject([{ epoch: 1, step: 7, action: 'rollback' }]);
    const run = trainRun(early, path.join(tmp.dir, 'ri'), tmp.dir, { DLT_INTERRUPT_AT_STEP: '4' });
    expectExit(run, 130);
    const r = dlt(['resume', run.runDir], tmp.dir);
    expectExit(r, 0);
    expect(r.stderr).toMatch(/rolled back to step 0 \(rollback 1 of 3\)/);
    expectSameRun(run.runDir, ref.runDir);
  });
});

/** The same metrics records and snapshot files as the reference, wall clock aside. */
function expectSameRollbackRun(runDir: string, referenceDir: string): void {
  expect(metricsWithoutClock(runDir)).toEqual(metricsWithoutClock(referenceDir));
  expect(snapshotFiles(runDir)).toEqual(snapshotFiles(referenceDir));
  for (const f of snapshotFiles(referenceDir)) {
    expect(snapshotFingerprint(path.join(runDir, f)), f).toEqual(snapshotFingerprint(path.join(referenceDir, f)));
  }
}
