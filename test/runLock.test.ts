/**
 * One owner per run directory (src/train/runLock.ts): dlt train and dlt resume hold an
 * exclusive lock file with their pid and host; a second writer exits 2 naming the owner
 * and changes nothing; a lock left by a killed process is stale and broken; the lock is
 * removed however the owner ends.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { RunLock } from '../src/train/runLock.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { expectExit, expectSameRun, hashTree, spawnDlt, trainRun, waitFor } from './support/resumeSupport.js';

const tmp = tempDir('dlt-lock-');
afterAll(() => tmp.cleanup());

const config = (epochs: number) => `name: lock
seed: 4
data:
  train: {format: spiral, classes: 3, points_per_class: 200, noise: 0.2}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers: [{type: dense, units: 32}, relu, {type: dense, units: 3}]
optimizer: {type: sgd, lr: 0.05, momentum: 0.9}
training: {epochs: ${epochs}, batch_size: 4, log_every: 10}
`;

/** A pid that no process has: one that has just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('the lock, in-process', () => {
  it('a second acquire is refused while the first holds it, and succeeds once it is released', () => {
    const file = path.join(tmp.dir, 'unit.lock');
    const first = RunLock.acquire(file, 'train');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), command: 'train' });
    expect(() => RunLock.acquire(file, 'resume')).toThrow(InputError);
    expect(() => RunLock.acquire(file, 'resume')).toThrow(`run directory in use by pid ${process.pid} on ${hostname()}`);
    first.release();
    expect(existsSync(file)).toBe(false);
    first.release(); // twice is harmless
    RunLock.acquire(file, 'resume').release();
  });

  it("breaks a stale lock (its pid is gone on this host), but never another host's", () => {
    const file = path.join(tmp.dir, 'stale.lock');
    writeFileSync(file, JSON.stringify({ pid: deadPid(), host: hostname(), command: 'train' }));
    const lock = RunLock.acquire(file, 'resume');
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    lock.release();
    const elsewhere = JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', command: 'train' });
    writeFileSync(file, elsewhere);
    expect(() => RunLock.acquire(file, 'resume')).toThrow(/run directory in use by pid \d+ on elsewhere\.example/);
    expect(readFileSync(file, 'utf8')).toBe(elsewhere);
  });

  it('refuses a damaged lock file rather than guess', () => {
    const file = path.join(tmp.dir, 'damaged.lock');
    writeFileSync(file, '{"pid": ');
    expect(() => RunLock.acquire(file, 'resume')).toThrow(/lock file is damaged.*remove the file/);
  });
});

describe('two writers on one run directory', () => {
  const out = path.join(tmp.dir, 'two');
  const file = tmp.write('lock.yaml', config(40));

  it('a second dlt resume while the first trains exits 2 naming the owner and changes nothing; the first ends as an uninterrupted run', async () => {
    const seed = trainRun(file, out, tmp.dir, { DLT_INTERRUPT_AT_STEP: '30' });
    expectExit(seed, 130);
    const first = spawnDlt(['resume', seed.runDir], tmp.dir);
    const lockFile = path.join(seed.runDir, 'dlt.lock');
    await waitFor(() => existsSync(lockFile), 20_000, 'the first resume to take the lock');
    first.child.kill('SIGSTOP'); // held still while the second tries, whatever the machine's speed
    const owner = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid: number; host: string };
    expect(owner.pid).toBe(first.child.pid);
    const second = dlt(['resume', seed.runDir], tmp.dir);
    expect(expectInputError(second)).toContain(`run directory in use by pid ${owner.pid} on ${owner.host} (dlt resume`);
    first.child.kill('SIGCONT');
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
    const reference = trainRun(file, path.join(tmp.dir, 'two-reference'), tmp.dir);
    expectExit(reference, 0);
    expectSameRun(seed.runDir, reference.runDir);
  });

  it('a stale lock left by a killed owner does not block a resume', () => {
    const seed = trainRun(file, out, tmp.dir, { DLT_INTERRUPT_AT_STEP: '12' });
    expectExit(seed, 130);
    writeFileSync(path.join(seed.runDir, 'dlt.lock'), JSON.stringify({ pid: deadPid(), host: hostname(), command: 'train' }));
    const r = dlt(['resume', seed.runDir, '--epochs', '2'], tmp.dir);
    expectExit(r, 0);
    expect(existsSync(path.join(seed.runDir, 'dlt.lock'))).toBe(false);
  });

  it('a live lock from another host blocks it, and the files stay as they were', () => {
    const seed = trainRun(file, out, tmp.dir, { DLT_INTERRUPT_AT_STEP: '12' });
    expectExit(seed, 130);
    writeFileSync(path.join(seed.runDir, 'dlt.lock'), JSON.stringify({ pid: 1, host: 'elsewhere.example', command: 'resume' }));
    const before = hashTree(seed.runDir);
    expect(expectInputError(dlt(['resume', seed.runDir], tmp.dir))).toMatch(/run directory in use by pid 1 on elsewhere\.example \(dlt resume\)/);
    expect(hashTree(seed.runDir)).toEqual(before);
  });
});

describe('the lock goes away however the owner ends', () => {
  const out = path.join(tmp.dir, 'ends');
  const file = tmp.write('ends.yaml', config(2));

  it('after success, an interrupt (130), a refused change (2) and a NaN stop (1)', () => {
    const interrupted = trainRun(file, out, tmp.dir, { DLT_INTERRUPT_AT_STEP: '5' });
    expectExit(interrupted, 130);
    const lockFile = path.join(interrupted.runDir, 'dlt.lock');
    expect(existsSync(lockFile)).toBe(false);
    expectExit(dlt(['resume', interrupted.runDir, '--set', 'seed=9'], tmp.dir), 2);
    expect(existsSync(lockFile)).toBe(false);
    expectExit(dlt(['resume', interrupted.runDir, '--set', 'optimizer.lr=1e30'], tmp.dir), 1);
    expect(existsSync(lockFile)).toBe(false);
    expectExit(dlt(['resume', interrupted.runDir], tmp.dir), 0);
    expect(existsSync(lockFile)).toBe(false);
  });
});
