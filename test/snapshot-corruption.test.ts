/**
 * Damaged snapshots (SPEC §2, §5): `dlt eval` and `dlt resume` check a snapshot before
 * trusting it, and refuse a bad one with exit 2 and one message naming the file, leaving
 * every file as it was. `dlt resume` falls back, with a warning, to the newest epoch
 * snapshot that verifies.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../src/snapshot/safetensors.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { expectExit, expectSameRun, hashTree, snapshotState, trainRun } from './support/resumeSupport.js';

const tmp = tempDir('dlt-corrupt-');
afterAll(() => tmp.cleanup());

function config(units: number): string {
  return `name: corrupt
seed: 9
data:
  train: {format: spiral, classes: 3, points_per_class: 40, noise: 0.15}
  test: {format: spiral, classes: 3, points_per_class: 10, noise: 0.15}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers: [{type: dense, units: ${units}}, relu, {type: dense, units: 3, init: xavier}]
optimizer: {type: sgd, lr: 0.05, momentum: 0.9}
training: {epochs: 4, batch_size: 16, keep_snapshots: 5}
`;
}
// 96 training samples at batch 16: 6 steps per epoch; step 15 is in the middle of epoch 3.
const INTERRUPT_AT = '15';

let reference = '';
/** A run interrupted in epoch 3: snapshots/epoch-0001, epoch-0002, latest (mid-epoch), best. */
let template = '';
/** The same, for a model with another hidden layer size. */
let otherArchitecture = '';

beforeAll(() => {
  const file = tmp.write('corrupt.yaml', config(24));
  const ref = trainRun(file, path.join(tmp.dir, 'reference'), tmp.dir);
  expectExit(ref, 0);
  reference = ref.runDir;
  const run = trainRun(file, path.join(tmp.dir, 'template'), tmp.dir, { DLT_INTERRUPT_AT_STEP: INTERRUPT_AT });
  expectExit(run, 130);
  template = run.runDir;
  expect(readdirSync(path.join(template, 'snapshots')).sort()).toEqual(['epoch-0001.safetensors', 'epoch-0002.safetensors', 'latest.safetensors']);
  const other = trainRun(tmp.write('other.yaml', config(32)), path.join(tmp.dir, 'other'), tmp.dir, { DLT_INTERRUPT_AT_STEP: INTERRUPT_AT });
  expectExit(other, 130);
  otherArchitecture = path.join(other.runDir, 'snapshots', 'latest.safetensors');
});

let copies = 0;
/** A fresh copy of the interrupted run. */
function copyOfRun(): string {
  const dir = path.join(tmp.dir, `copy-${++copies}`, path.basename(template));
  cpSync(template, dir, { recursive: true });
  return dir;
}

type Damage = (file: string) => void;

function rewrite(file: string, change: (bytes: Buffer) => Buffer | void): void {
  const bytes = readFileSync(file);
  writeFileSync(file, change(bytes) ?? bytes);
}

/** Each damage, and what the message must say about it. */
const damages: [string, Damage, RegExp][] = [
  ['truncated file', (f) => rewrite(f, (b) => b.subarray(0, Math.floor(b.length * 0.7))), /truncated/],
  ['one flipped byte in tensor data', (f) => rewrite(f, (b) => void (b[b.length - 5]! ^= 0x10)), /checksum mismatch/],
  [
    'header length larger than the file',
    (f) => rewrite(f, (b) => void b.writeBigUInt64LE(BigInt(b.length + 1000), 0)),
    /header claims \d+ bytes but the file has only \d+ bytes/,
  ],
  ['header that is not JSON', (f) => rewrite(f, (b) => void (b[8] = '#'.charCodeAt(0))), /header is not valid JSON/],
  [
    'wrong format tag',
    (f) => {
      const { tensors, metadata } = readSafetensors(f);
      writeSafetensors(f, [...tensors.values()], { ...Object.fromEntries(metadata), format: 'not-a-dlt-snapshot' });
    },
    /not a dlt snapshot \(format tag "not-a-dlt-snapshot", expected "dlt-snapshot"\)/,
  ],
  ['empty file', (f) => writeFileSync(f, ''), /the file is empty/],
];

describe('dlt eval on a damaged snapshot file', () => {
  it('evaluates the intact file (the baseline)', () => {
    const r = dlt(['eval', path.join(template, 'snapshots', 'latest.safetensors'), '--json'], tmp.dir);
    expectExit(r, 0);
    expect(JSON.parse(r.stdout)).toMatchObject({ split: 'test', samples: 30 });
  });

  it.each(damages)('%s: exit 2 naming the file, nothing changed', (_name, damage, message) => {
    const dir = path.join(tmp.dir, `eval-${++copies}`);
    mkdirSync(dir);
    const file = path.join(dir, 'snapshot.safetensors');
    cpSync(path.join(template, 'snapshots', 'latest.safetensors'), file);
    damage(file);
    const before = hashTree(dir);
    const msg = expectInputError(dlt(['eval', file], tmp.dir));
    expect(msg).toContain(`error: ${file}: `);
    expect(msg).toMatch(message);
    expect(hashTree(dir)).toEqual(before);
  });

  it('a damaged best.safetensors in a run directory is named too', () => {
    const run = copyOfRun();
    rewrite(path.join(run, 'best.safetensors'), (b) => void (b[b.length - 1]! ^= 0xff));
    const before = hashTree(run);
    const msg = expectInputError(dlt(['eval', run], tmp.dir));
    expect(msg).toContain(`error: ${path.join(run, 'best.safetensors')}: `);
    expect(msg).toMatch(/checksum mismatch/);
    expect(hashTree(run)).toEqual(before);
  });

  it('a folder that is not a run: exit 2', () => {
    const dir = path.join(tmp.dir, 'not-a-run-eval');
    mkdirSync(dir);
    const msg = expectInputError(dlt(['eval', dir], tmp.dir));
    expect(msg).toContain(dir);
    expect(msg).toMatch(/not a run directory/);
    expect(hashTree(dir)).toEqual({});
  });
});

describe('dlt resume with damaged snapshots', () => {
  it.each(damages)('%s in latest and every epoch file: exit 2 naming them, nothing changed', (_name, damage, message) => {
    const run = copyOfRun();
    const snapshots = readdirSync(path.join(run, 'snapshots')).map((f) => path.join(run, 'snapshots', f));
    for (const f of snapshots) damage(f);
    const before = hashTree(run);
    const msg = expectInputError(dlt(['resume', run], tmp.dir));
    expect(msg).toContain(`error: ${run}: no intact snapshot to resume from`);
    for (const f of snapshots) expect(msg).toContain(`${f} is unusable`);
    expect(msg).toMatch(message);
    expect(hashTree(run)).toEqual(before);
  });

  it('a snapshot of another architecture in latest and every epoch file: refused, nothing changed', () => {
    const run = copyOfRun();
    for (const f of readdirSync(path.join(run, 'snapshots'))) cpSync(otherArchitecture, path.join(run, 'snapshots', f));
    const before = hashTree(run);
    const msg = expectInputError(dlt(['resume', run], tmp.dir));
    expect(msg).toContain(`${path.join(run, 'snapshots', 'latest.safetensors')} is unusable`);
    expect(msg).toMatch(/another run or architecture: model\.layers\.0\.units is 32 in the snapshot but 24 in the run's config\.yaml/);
    expect(hashTree(run)).toEqual(before);
  });

  it('a folder that is not a run: exit 2', () => {
    const dir = path.join(tmp.dir, 'not-a-run-resume');
    mkdirSync(dir);
    const msg = expectInputError(dlt(['resume', dir], tmp.dir));
    expect(msg).toContain(`error: ${dir}: not a run directory`);
    expect(hashTree(dir)).toEqual({});
    expect(expectInputError(dlt(['resume', path.join(tmp.dir, 'no-such-folder')], tmp.dir))).toMatch(/not a run directory/);
  });

  it('a run with no snapshot yet: exit 2', () => {
    const run = copyOfRun();
    for (const f of readdirSync(path.join(run, 'snapshots'))) rmSync(path.join(run, 'snapshots', f));
    const before = hashTree(run);
    expect(expectInputError(dlt(['resume', run], tmp.dir))).toMatch(/no intact snapshot to resume from \(snapshots\/ is empty\)/);
    expect(hashTree(run)).toEqual(before);
  });

  it('damaged latest only: warns naming it, resumes from the newest epoch snapshot, ends like the reference', () => {
    const run = copyOfRun();
    const latest = path.join(run, 'snapshots', 'latest.safetensors');
    rewrite(latest, (b) => void (b[b.length - 5]! ^= 0x10));
    const r = dlt(['resume', run], tmp.dir);
    expectExit(r, 0);
    expect(r.stderr).toMatch(/^warning: /);
    expect(r.stderr).toContain(`${latest} is unusable (`);
    expect(r.stderr).toMatch(/checksum mismatch/);
    expect(r.stderr).toContain(`resuming from ${path.join(run, 'snapshots', 'epoch-0002.safetensors')} instead`);
    expect(r.stdout).toContain('2 epochs and 0 batches done');
    expectSameRun(run, reference);
  });

  it('latest from another architecture only: warns and falls back the same way', () => {
    const run = copyOfRun();
    cpSync(otherArchitecture, path.join(run, 'snapshots', 'latest.safetensors'));
    const r = dlt(['resume', run], tmp.dir);
    expectExit(r, 0);
    expect(r.stderr).toMatch(/another run or architecture/);
    expect(snapshotState(path.join(run, 'snapshots', 'latest.safetensors'))).toMatchObject({ epoch: 4, batch: 0 });
    expectSameRun(run, reference);
  });
});
