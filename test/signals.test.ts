/**
 * Real SIGINT/SIGTERM (SPEC §2, §5): the run finishes its batch, writes
 * snapshots/latest.safetensors, says how to resume and exits 130; `dlt resume` then ends
 * bit for bit where the uninterrupted run ends.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/snapshot/safetensors.js';
import { dlt, tempDir } from './support/cli.js';
import { expectExit, expectSameRun, type Spawned, snapshotState, spawnDlt, trainRun, waitFor } from './support/resumeSupport.js';

const tmp = tempDir('dlt-signals-');
afterAll(() => tmp.cleanup());

const EPOCHS = 200;
const file = tmp.write(
  'signals.yaml',
  `name: signals
seed: 21
data:
  train: {format: spiral, classes: 3, points_per_class: 40, noise: 0.15}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers: [{type: dense, units: 24}, relu, {type: dense, units: 3, init: xavier}]
optimizer: {type: sgd, lr: 0.05, momentum: 0.9}
schedule: {type: step, every: 50, factor: 0.5}
training: {epochs: ${EPOCHS}, batch_size: 16, loss_window: 7, log_every: 3, keep_snapshots: 2}
`,
);

let outs = 0;
const newOut = () => path.join(tmp.dir, `out-${++outs}`);

/** Epoch records in the run's metrics.jsonl so far. */
function epochsLogged(runDir: string): number {
  const metrics = path.join(runDir, 'metrics.jsonl');
  if (!existsSync(metrics)) return 0;
  return readFileSync(metrics, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{"kind":"epoch"')).length;
}

/** The run directory a spawned `dlt train` printed on its first line. */
async function runDirOf(p: Spawned): Promise<string> {
  let text = '';
  p.child.stdout!.on('data', (s: string) => (text += s));
  await waitFor(() => text.includes('\n'), 60_000, 'the run directory on stdout');
  return text.split('\n')[0]!;
}

/** Send `signal` once `atLeast` epochs are logged; expect exit 130 and the resume hint. */
async function interrupt(p: Spawned, runDir: string, atLeast: number, signal: NodeJS.Signals): Promise<void> {
  await waitFor(() => epochsLogged(runDir) >= atLeast, 60_000, `${atLeast} epochs in ${runDir}/metrics.jsonl`);
  p.child.kill(signal);
  const r = await p.done;
  if (r.code !== 130) throw new Error(`expected exit 130 after ${signal}, got ${r.code ?? r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  expect(r.stderr).toContain(`${signal}: finishing the current batch and writing a snapshot`);
  const latest = path.join(runDir, 'snapshots', 'latest.safetensors');
  expect(r.stderr).toContain(`snapshot written to ${latest}`);
  expect(r.stderr).toContain(`resume with: dlt resume ${runDir}`);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(() => readSafetensors(latest)).not.toThrow();
  const state = snapshotState(latest);
  expect(state.epoch).toBeGreaterThanOrEqual(atLeast);
  expect(state.epoch).toBeLessThan(EPOCHS);
  expect(existsSync(path.join(runDir, 'summary.json'))).toBe(false);
}

describe('SIGINT and SIGTERM', () => {
  // The uninterrupted run, trained by the first test that needs it (so -t filters work).
  let referenceDir: string | undefined;
  const reference = (): string => {
    if (referenceDir === undefined) {
      const r = trainRun(file, newOut(), tmp.dir);
      expectExit(r, 0);
      referenceDir = r.runDir;
    }
    return referenceDir;
  };

  it('trains uninterrupted (the reference)', () => {
    expect(snapshotState(path.join(reference(), 'snapshots', 'latest.safetensors'))).toMatchObject({ epoch: EPOCHS, batch: 0 });
  });

  it('SIGINT during training, SIGTERM during the resume, then a resume to the end: bit-identical', async () => {
    const trainer = spawnDlt(['train', file, '--out', newOut()], tmp.dir);
    const runDir = await runDirOf(trainer);
    await interrupt(trainer, runDir, 5, 'SIGINT');

    // (metrics.jsonl ends where the snapshot was taken, so the count goes on from here)
    const done = epochsLogged(runDir);
    const resumer = spawnDlt(['resume', runDir], tmp.dir);
    await interrupt(resumer, runDir, done + 5, 'SIGTERM');

    const r = dlt(['resume', runDir], tmp.dir);
    expectExit(r, 0);
    expectSameRun(runDir, reference());
  });

  it('SIGTERM during training, then a resume: bit-identical', async () => {
    const trainer = spawnDlt(['train', file, '--out', newOut()], tmp.dir);
    const runDir = await runDirOf(trainer);
    await interrupt(trainer, runDir, 8, 'SIGTERM');
    const r = dlt(['resume', runDir], tmp.dir);
    expectExit(r, 0);
    expectSameRun(runDir, reference());
  });

  it('a second SIGINT stops at once with exit 130; the previous snapshot stays usable', async () => {
    const trainer = spawnDlt(['train', file, '--out', newOut()], tmp.dir);
    const runDir = await runDirOf(trainer);
    await waitFor(() => epochsLogged(runDir) >= 5, 60_000, 'five epochs');
    trainer.child.kill('SIGINT');
    trainer.child.kill('SIGINT');
    const stopped = await trainer.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toContain('SIGINT: finishing the current batch');
    expect(stopped.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(() => readSafetensors(path.join(runDir, 'snapshots', 'latest.safetensors'))).not.toThrow();
    const r = dlt(['resume', runDir], tmp.dir);
    expectExit(r, 0);
    expectSameRun(runDir, reference());
  });
});
