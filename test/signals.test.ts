/**
 * Real SIGINT/SIGTERM (SPEC §2, §5): the run finishes its batch, writes
 * snapshots/latest.safetensors, says how to resume and exits 130; `dlt resume` then ends
 * bit for bit where the uninterrupted run ends.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/snapshot/safetensors.js';
import { dlt, repoRoot, tempDir } from './support/cli.js';
import { bin, expectExit, expectSameRun, type Spawned, snapshotState, spawnDlt, trainRun, waitFor } from './support/resumeSupport.js';

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

describe('a signal before training starts, and during other commands', () => {
  /**
   * Run dlt and send `signal` right after it adds its listener for it, while it waits
   * there (test/support/announce-signals.mjs): a signal that lands while Node is still
   * starting would kill it by the default action instead.
   */
  async function signalWhileRunning(args: string[], signal: 'SIGINT' | 'SIGTERM') {
    const announce = path.join(repoRoot, 'test', 'support', 'announce-signals.mjs');
    const child = spawn(process.execPath, ['--import', announce, bin, ...args], {
      cwd: tmp.dir,
      env: { ...process.env, NO_COLOR: '1', DLT_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
    });
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    const [, , , announced, go] = child.stdio;
    if (!(announced instanceof Readable) || !(go instanceof Writable)) throw new Error('the child has no fds 3 and 4');
    let sent = false;
    announced.setEncoding('utf8').on('data', (text: string) => {
      for (const name of text.split('\n').filter(Boolean)) {
        if (name === signal && !sent) {
          sent = true;
          child.kill(signal);
        }
        go.write('\n');
      }
    });
    const [code, killedBy] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, k) => resolve([c, k])));
    return { code, killedBy, stdout, stderr };
  }

  it('SIGINT while the data is read: exit 2, "nothing was written", no run directory', async () => {
    // A CSV large enough that reading it takes a while.
    const rows = Array.from({ length: 200_000 }, (_, i) => `${(i % 97) / 97},${(i % 89) / 89},${i % 2}`);
    const csv = tmp.write('big.csv', `x,y,label\n${rows.join('\n')}\n`);
    const config = tmp.write(
      'big.yaml',
      `name: big\ndata:\n  train: {format: csv, path: ${JSON.stringify(csv)}, label_column: label}\nmodel: {input: [2], layers: [{type: dense, units: 2}]}\noptimizer: {type: sgd, lr: 0.1}\n`,
    );
    const out = newOut();
    const r = await signalWhileRunning(['train', config, '--out', out], 'SIGINT');
    expect(r.stdout, r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: interrupted by SIGINT before training started; nothing was written\n');
    expect(existsSync(out)).toBe(false);
  });

  it('SIGTERM during dlt plot ends it (exit 130) without leaving a temporary file behind', async () => {
    const run = trainRun(file, newOut(), tmp.dir, {}, ['--set', 'training.epochs=3']);
    expectExit(run, 0);
    // Many records, so that plotting takes long enough to be hit.
    const steps = Array.from({ length: 150_000 }, (_, i) =>
      JSON.stringify({ kind: 'step', epoch: 1, step: i + 1, loss: 1 / (i + 1), loss_avg: 1 / (i + 1), lr: 0.1 }),
    );
    const epoch = {
      kind: 'epoch',
      epoch: 1,
      step: 150_000,
      train_loss_avg: 0.1,
      val_loss: 0.2,
      val_accuracy: 0.5,
      lr: 0.1,
      samples_per_s: 1,
      seconds: 1,
    };
    writeFileSync(path.join(run.runDir, 'metrics.jsonl'), `${[...steps, JSON.stringify(epoch)].join('\n')}\n`);
    const r = await signalWhileRunning(['plot', run.runDir], 'SIGTERM');
    expect(r.code, r.stderr).toBe(130);
    expect(readdirSync(run.runDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
