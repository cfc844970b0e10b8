/**
 * Where a run is written (src/train/runDirectory.ts) and what happens when the disk says
 * no: a bad --out or run name is exit 2 before any data is read; a read-only run
 * directory is exit 2 naming it, with nothing changed; a full disk is exit 1 with "no
 * space left while writing PATH", and once there is room again the run resumes to the
 * same end as a run that never stopped.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { expectExit, expectSameFinalTensors, hashTree, metricsWithoutClock, summaryWithoutClock, trainRun } from './support/resumeSupport.js';

const tmp = tempDir('dlt-rundir-');
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  tmp.cleanup();
});

/** A config whose training data does not exist: an error about the output must come before it is read. */
const missingData = tmp.write(
  'missing-data.yaml',
  `name: early
data:
  train: {format: idx, images: nowhere/images.gz, labels: nowhere/labels.gz}
model: {input: [1, 28, 28], layers: [flatten, {type: dense, units: 10}]}
optimizer: {type: sgd, lr: 0.1}
`,
);

describe('the output folder and the run name are checked before any work', () => {
  it('--out naming a file: exit 2 naming it, before the data is read', () => {
    const file = tmp.write('a-file', 'not a folder');
    const msg = expectInputError(dlt(['train', missingData, '--out', file], tmp.dir));
    expect(msg).toBe(`error: ${file}: --out names a file, not a folder; give a folder in which to create the run directory\n`);
  });

  it('--out passing through a file: the same', () => {
    const file = tmp.write('another-file', '');
    expect(expectInputError(dlt(['train', missingData, '--out', path.join(file, 'runs')], tmp.dir))).toMatch(/passes through a file, not a folder/);
  });

  it('a 300-character run name: exit 2, and no folder is made', () => {
    const out = path.join(tmp.dir, 'long-name');
    const msg = expectInputError(dlt(['train', missingData, '--out', out, '--set', `name=${'n'.repeat(300)}`], tmp.dir));
    expect(msg).toMatch(/name/);
    expect(msg).not.toMatch(/nowhere/);
    expect(existsSync(out)).toBe(false);
  });
});

/** Whether this process may mount file systems (root, and a kernel that lets it); tests that need it say why they skip. */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = path.join(tmp.dir, 'probe');
  mkdirSync(probe, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  }
}
const mountable = canMount();
if (!mountable) console.log('runDirectory.test.ts: skipping the read-only and full-disk tests: they mount a small tmpfs, which needs root');

function mountTmpfs(name: string, size: string): string {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

const config = tmp.write(
  'disk.yaml',
  `name: disk
seed: 3
data:
  train: {format: spiral, classes: 3, points_per_class: 60, noise: 0.2}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers: [{type: dense, units: 200}, relu, {type: dense, units: 200}, relu, {type: dense, units: 3}]
optimizer: {type: sgd, lr: 0.02, momentum: 0.9}
training: {epochs: 3, batch_size: 16, keep_snapshots: 5}
`,
);

describe.skipIf(!mountable)('a read-only disk', () => {
  it('dlt train into a read-only folder: exit 2 naming it, before the data is read', () => {
    const ro = mountTmpfs('ro-out', '1m');
    execFileSync('mount', ['-o', 'remount,ro', ro]);
    const msg = expectInputError(dlt(['train', missingData, '--out', ro], tmp.dir));
    expect(msg).toMatch(new RegExp(`^error: ${ro}: cannot create a run directory in this folder: the file system is read-only`));
  });

  it('dlt resume of a run on a read-only disk: exit 2 naming the run directory, nothing changed', () => {
    const disk = mountTmpfs('ro-run', '4m');
    const run = trainRun(config, disk, tmp.dir, { DLT_INTERRUPT_AT_STEP: '12' });
    expectExit(run, 130);
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    const before = hashTree(run.runDir);
    const msg = expectInputError(dlt(['resume', run.runDir], tmp.dir));
    expect(msg).toMatch(/cannot create the lock file: the file system is read-only/);
    expect(msg).toContain(run.runDir);
    expect(hashTree(run.runDir)).toEqual(before);
  });
});

describe.skipIf(!mountable)('a full disk', () => {
  it('exit 1 with "no space left while writing PATH"; after freeing space the run resumes to the uninterrupted end', () => {
    const disk = mountTmpfs('full', '4m');
    const first = trainRun(config, disk, tmp.dir, {}, ['--set', 'training.epochs=1']);
    expectExit(first, 0);
    // Fill the disk but for a little: a snapshot (two layers of 200) no longer fits.
    const free = statfsSync(disk).bavail * statfsSync(disk).bsize;
    writeFileSync(path.join(disk, 'filler'), Buffer.alloc(Math.max(0, free - 200_000)));
    const before = readdirSync(path.join(first.runDir, 'snapshots')).sort();
    const full = dlt(['resume', first.runDir, '--epochs', '3'], tmp.dir);
    expectExit(full, 1);
    expect(full.stderr).toMatch(
      new RegExp(`^error: no space left while writing ${first.runDir}/\\S+; free some space on that disk, then run the command again\\n$`),
    );
    expect(readdirSync(path.join(first.runDir, 'snapshots')).sort()).toEqual(before);
    rmSync(path.join(disk, 'filler'));
    const resumed = dlt(['resume', first.runDir, '--epochs', '3'], tmp.dir);
    expectExit(resumed, 0);
    const reference = trainRun(config, path.join(tmp.dir, 'full-reference'), tmp.dir);
    expectExit(reference, 0);
    expectSameFinalTensors(first.runDir, reference.runDir);
    expect(metricsWithoutClock(first.runDir)).toEqual(metricsWithoutClock(reference.runDir));
    expect(summaryWithoutClock(first.runDir)).toEqual(summaryWithoutClock(reference.runDir));
  });
});
