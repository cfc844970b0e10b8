/**
 * Crash safety (SPEC §5): "a crash at any instant leaves the previous snapshot intact and
 * loadable", and `dlt resume` then still ends bit for bit where an uninterrupted run ends.
 * Training and resuming processes are killed with SIGKILL at seeded random moments, many
 * of them while a snapshot of a few MB is being written.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/snapshot/safetensors.js';
import { dlt, tempDir } from './support/cli.js';
import { expectExit, expectSameRun, metricsWithoutClock, type Spawned, seededRandom, spawnDlt, trainRun, waitFor } from './support/resumeSupport.js';

const tmp = tempDir('dlt-crash-');
afterAll(() => tmp.cleanup());

/** Files a snapshot write may leave behind when killed: `.<name>.<pid>.<random>.tmp`. */
const TEMP_FILE = /^\.[^/]+\.\d+\.[0-9a-f]+\.tmp$/;
const SNAPSHOT_FILE = /^(epoch-\d{4}|latest)\.safetensors$/;

/**
 * After a kill: every snapshot file there is verifies (checksum included), and the only
 * other files are hidden temp files, which nothing reads. Returns the temp files (a kill
 * that lands during a write leaves one).
 */
function checkAfterKill(runDir: string): Set<string> {
  const leftovers = new Set<string>();
  const folder = path.join(runDir, 'snapshots');
  if (!existsSync(folder)) return leftovers;
  for (const f of readdirSync(folder)) {
    if (TEMP_FILE.test(f)) {
      leftovers.add(path.join('snapshots', f));
      continue;
    }
    expect(f, `unexpected file in ${folder}`).toMatch(SNAPSHOT_FILE);
    expect(() => readSafetensors(path.join(folder, f)), f).not.toThrow();
  }
  for (const f of readdirSync(runDir)) {
    if (TEMP_FILE.test(f)) leftovers.add(f);
    else
      expect(
        // dlt.lock: a killed owner's lock, stale, which the next resume breaks
        ['config.yaml', 'metrics.jsonl', 'metrics.csv', 'snapshots', 'best.safetensors', 'summary.json', 'dlt.lock'],
        `unexpected file in ${runDir}`,
      ).toContain(f);
  }
  if (existsSync(path.join(runDir, 'best.safetensors'))) expect(() => readSafetensors(path.join(runDir, 'best.safetensors'))).not.toThrow();
  return leftovers;
}

/**
 * Whether the run has a snapshot to resume from. A kill can land between an epoch's
 * `epoch-NNNN` write and its `latest` write, so `latest` alone does not tell.
 */
function hasSnapshot(runDir: string): boolean {
  const folder = path.join(runDir, 'snapshots');
  return existsSync(folder) && readdirSync(folder).some((f) => SNAPSHOT_FILE.test(f));
}

describe('a crash between the snapshot writes at the end of an epoch', () => {
  // 7 steps per epoch; the validation accuracy improves several times over 8 epochs.
  const file = tmp.write(
    'between.yaml',
    `name: between
seed: 4
data:
  train: {format: spiral, classes: 3, points_per_class: 50, noise: 0.1}
  validation: {fraction: 0.25}
model:
  input: [2]
  layers: [{type: dense, units: 32}, relu, {type: dense, units: 3, init: xavier}]
optimizer: {type: adam, lr: 0.05}
training: {epochs: 8, batch_size: 16, loss_window: 3, log_every: 1}
`,
  );

  it('leaves best.safetensors right after the resume', () => {
    const reference = trainRun(file, path.join(tmp.dir, 'between-ref'), tmp.dir);
    expectExit(reference, 0);
    // The epoch of the final best, and the best before it.
    const epochs = metricsWithoutClock(reference.runDir).filter((m) => m.kind === 'epoch') as { epoch: number; step: number; val_accuracy: number }[];
    const improvements: number[] = [];
    let best = -1;
    for (const e of epochs) {
      if (e.val_accuracy <= best) continue;
      best = e.val_accuracy;
      improvements.push(e.epoch);
    }
    const last = improvements[improvements.length - 1]!;
    expect(last, 'the config must improve after epoch 1 for this test').toBeGreaterThan(1);

    // Stop inside that epoch, then make writing best.safetensors fail at its end, at the
    // exact point where a kill between the writes would land: a folder in its place is a
    // bad path (exit 2, naming it).
    const stepsPerEpoch = epochs[0]!.step;
    const run = trainRun(file, path.join(tmp.dir, 'between'), tmp.dir, { DLT_INTERRUPT_AT_STEP: String((last - 1) * stepsPerEpoch + 1) });
    expectExit(run, 130);
    const bestFile = path.join(run.runDir, 'best.safetensors');
    renameSync(bestFile, `${bestFile}.aside`);
    mkdirSync(bestFile);
    const failed = dlt(['resume', run.runDir], tmp.dir);
    expectExit(failed, 2);
    expect(failed.stderr).toMatch(/^error: .*best\.safetensors: cannot write: it is a folder, not a file/m);
    rmdirSync(bestFile);
    renameSync(`${bestFile}.aside`, bestFile);
    expect(checkAfterKill(run.runDir).size).toBe(0); // the failed write removed its temp file

    const r = dlt(['resume', run.runDir], tmp.dir);
    expectExit(r, 0);
    expectSameRun(run.runDir, reference.runDir);
  });

  it('resumes from epoch-NNNN when a kill came before latest was written', () => {
    const reference = trainRun(file, path.join(tmp.dir, 'no-latest-ref'), tmp.dir);
    expectExit(reference, 0);
    const stepsPerEpoch = (metricsWithoutClock(reference.runDir).find((m) => m.kind === 'epoch') as { step: number }).step;
    // Stopped one step into epoch 2, then latest removed: the folder as a kill between
    // the epoch-0001 write and the latest write leaves it (the metrics log runs further).
    const run = trainRun(file, path.join(tmp.dir, 'no-latest'), tmp.dir, { DLT_INTERRUPT_AT_STEP: String(stepsPerEpoch + 1) });
    expectExit(run, 130);
    rmSync(path.join(run.runDir, 'snapshots', 'latest.safetensors'));
    expect(readdirSync(path.join(run.runDir, 'snapshots'))).toEqual(['epoch-0001.safetensors']);

    const r = dlt(['resume', run.runDir], tmp.dir);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/resuming from .*epoch-0001\.safetensors: 1 epochs and 0 batches done/);
    expectSameRun(run.runDir, reference.runDir);
  });
});

describe('SIGKILL at random moments', () => {
  // Two 500-unit layers: ~250k parameters, a 3 MB snapshot (weights and Adam's m and v),
  // written with fsync every epoch as epoch-NNNN and latest (and best when it improves),
  // while an epoch computes only 2 batches of 12 samples: about half of the time goes to
  // snapshot writes, so many kills land during one.
  const file = tmp.write(
    'crash.yaml',
    `name: crash
seed: 5
data:
  train: {format: spiral, classes: 3, points_per_class: 10, noise: 0.1}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers:
    - {type: dense, units: 500}
    - relu
    - {type: dense, units: 500}
    - relu
    - {type: dense, units: 3, init: xavier}
optimizer: {type: adam, lr: 0.001}
training: {epochs: 40, batch_size: 12, loss_window: 3, log_every: 1, snapshot_every: 1, keep_snapshots: 2}
`,
  );
  const KILLS = 24;

  it(`resumes to the bit-identical result after each of ${KILLS}+ kills, also of resumes`, async () => {
    const reference = trainRun(file, path.join(tmp.dir, 'crash-ref'), tmp.dir);
    expectExit(reference, 0);

    const random = seededRandom(20261127);
    const stats = { kills: 0, duringWrite: 0, beforeSnapshot: 0, finishedAlone: 0, rounds: 0 };

    /**
     * Kill `p` with SIGKILL a random time after `ready()` holds, unless it ends first;
     * returns whether it was killed. (Timing from the start of the process would make
     * the kills depend on how fast Node starts on this machine.)
     */
    const killSoon = async (p: Spawned, ready: () => boolean, minMs: number, maxMs: number): Promise<boolean> => {
      let exited = false;
      void p.done.then(() => (exited = true));
      await waitFor(() => exited || ready(), 60_000, 'the process to get going');
      const delay = minMs + Math.floor(random() * (maxMs - minMs));
      const deadline = Date.now() + delay;
      await waitFor(() => exited || Date.now() >= deadline, delay + 60_000, 'the kill time');
      if (!exited) p.child.kill('SIGKILL');
      const r = await p.done;
      // (A process can end on its own in the moment before the kill reaches it.)
      if (r.signal === 'SIGKILL') {
        stats.kills++;
        return true;
      }
      expect(r.code, r.stderr).toBe(0);
      stats.finishedAlone++;
      return false;
    };
    const printed = (p: Spawned) => {
      let any = false;
      p.child.stdout!.once('data', () => (any = true));
      return () => any;
    };

    while (stats.kills < KILLS) {
      const out = path.join(tmp.dir, `round-${++stats.rounds}`);
      const latestOf = () => {
        const runs = existsSync(out) ? readdirSync(out) : [];
        return runs.length > 0 && existsSync(path.join(out, runs[0]!, 'snapshots', 'latest.safetensors'));
      };
      const trainer = spawnDlt(['train', file, '--out', out], tmp.dir);
      // Mostly once the first snapshot exists; sometimes (and in the first round) early,
      // during the first epoch.
      if (stats.rounds > 1 && random() < 0.8) await killSoon(trainer, latestOf, 0, 600);
      else await killSoon(trainer, printed(trainer), 0, 200);
      const runs = existsSync(out) ? readdirSync(out) : [];
      if (runs.length === 0) continue; // killed before the run directory existed
      const runDir = path.join(out, runs[0]!);
      let leftovers = checkAfterKill(runDir);
      stats.duringWrite += leftovers.size > 0 ? 1 : 0;

      if (!hasSnapshot(runDir)) {
        // Killed during the first epoch's work or its first write: nothing to resume,
        // which resume says (exit 2).
        const r = dlt(['resume', runDir], tmp.dir);
        expectExit(r, 2);
        expect(r.stderr).toMatch(/no intact snapshot to resume from|not a run directory/);
        stats.beforeSnapshot++;
        continue;
      }

      // A chain of resumes, each killed too (unless it finishes first).
      const chain = 3 + Math.floor(random() * 5);
      for (let i = 0; i < chain && !existsSync(path.join(runDir, 'summary.json')); i++) {
        const resumer = spawnDlt(['resume', runDir], tmp.dir);
        if (!(await killSoon(resumer, printed(resumer), 20, 700))) break;
        const now = checkAfterKill(runDir);
        if ([...now].some((f) => !leftovers.has(f))) stats.duringWrite++;
        leftovers = now;
        expect(hasSnapshot(runDir)).toBe(true);
      }

      // Then one resume to the end: the result is the uninterrupted run's, bit for bit.
      if (!existsSync(path.join(runDir, 'summary.json'))) {
        // (A run killed after its final snapshot, before summary.json, is finished by it.)
        const r = dlt(['resume', runDir], tmp.dir);
        expectExit(r, 0);
      }
      expectSameRun(runDir, reference.runDir, `round ${stats.rounds}`);
    }

    console.log(`crash test: ${JSON.stringify(stats)}`);
    expect(stats.kills).toBeGreaterThanOrEqual(KILLS);
    // Most kills land after the first snapshot.
    expect(stats.beforeSnapshot).toBeLessThan(stats.kills / 4);
    // Some landed while a snapshot was being written (they left a temp file behind).
    expect(stats.duringWrite).toBeGreaterThan(0);
  }, 240_000);
});
