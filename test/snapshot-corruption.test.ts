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
import { editHeader, editState, type Header } from './support/snapshotEdit.js';

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

function rewrite(file: string, change: (bytes: Buffer) => Buffer): void {
  writeFileSync(file, change(readFileSync(file)));
}

/** Each damage, and what the message must say about it. */
const damages: [string, Damage, RegExp][] = [
  ['truncated file', (f) => rewrite(f, (b) => b.subarray(0, Math.floor(b.length * 0.7))), /truncated/],
  ['one flipped byte in tensor data', (f) => flipByte(f, -5, 0x10), /checksum mismatch/],
  [
    'header length larger than the file',
    (f) =>
      rewrite(f, (b) => {
        b.writeBigUInt64LE(BigInt(b.length + 1000), 0);
        return b;
      }),
    /header claims \d+ bytes but the file has only \d+ bytes/,
  ],
  [
    'header that is not JSON',
    (f) =>
      rewrite(f, (b) => {
        b[8] = '#'.charCodeAt(0);
        return b;
      }),
    /header is not valid JSON/,
  ],
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

/** XOR one byte of the file, counting from its end when `at` is negative. */
function flipByte(file: string, at: number, mask: number): void {
  rewrite(file, (b) => {
    const i = at < 0 ? b.length + at : at;
    b[i] = (b[i] ?? 0) ^ mask;
    return b;
  });
}

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
    flipByte(path.join(run, 'best.safetensors'), -1, 0xff);
    const before = hashTree(run);
    const msg = expectInputError(dlt(['eval', run], tmp.dir));
    expect(msg).toContain(`error: ${path.join(run, 'best.safetensors')}: `);
    expect(msg).toMatch(/checksum mismatch/);
    expect(hashTree(run)).toEqual(before);
  });

  it("a best.safetensors of another run in a run directory is refused, not evaluated as the run's", () => {
    const run = copyOfRun();
    cpSync(otherArchitecture, path.join(run, 'best.safetensors'));
    const before = hashTree(run);
    const msg = expectInputError(dlt(['eval', run], tmp.dir));
    expect(msg).toContain(`error: ${path.join(run, 'best.safetensors')}: it belongs to another run or architecture: model.layers.0.units is 32`);
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
    flipByte(latest, -5, 0x10);
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

describe('the checksum covers the header too (snapshot version 2), and the state is parsed before use', () => {
  const latestOf = (run: string) => path.join(run, 'snapshots', 'latest.safetensors');
  /** Edits whose checksum no longer matches: plain damage, or an edit by hand. */
  const unsealed: [string, (file: string) => void, RegExp][] = [
    [
      'the sha256 entry removed',
      (f) => editHeader(f, (h) => delete (h.__metadata__ as Header).sha256, false),
      /has no sha256 checksum, which dlt always writes/,
    ],
    [
      'a one-character edit of the config in the header (lr 0.05 → 0.35)',
      (f) =>
        editHeader(
          f,
          (h) => {
            const metadata = h.__metadata__ as Header;
            metadata.config = String(metadata.config).replace('"lr":0.05', '"lr":0.35');
          },
          false,
        ),
      /checksum mismatch: the header and tensor data hash to sha256/,
    ],
    [
      "two tensors' offsets swapped",
      (f) =>
        editHeader(
          f,
          (h) => {
            const a = h['param/dense_1/bias'] as Header;
            const b = h['param/dense_2/bias'] as Header;
            [a.data_offsets, b.data_offsets] = [b.data_offsets ?? null, a.data_offsets ?? null];
            [a.shape, b.shape] = [b.shape ?? null, a.shape ?? null];
          },
          false,
        ),
      /checksum mismatch/,
    ],
  ];
  /** States the checksum vouches for (sealed again after the edit) that the schema refuses. */
  const badStates: [string, (state: Header) => void, RegExp][] = [
    [
      'a bad RNG state',
      (s) => Object.assign(s, { shuffle_rng: [1, 2, 3, 2 ** 33] }),
      /training state stored in the snapshot is invalid \(shuffle_rng\.3: /,
    ],
    ['an all-zero RNG state', (s) => Object.assign(s, { dropout_rng: [0, 0, 0, 0] }), /dropout_rng: an all-zero generator state is invalid/],
    ['schedule: null', (s) => Object.assign(s, { schedule: null }), /invalid \(schedule: /],
    ['a negative lr scale', (s) => Object.assign(s.schedule as Header, { scale: -0.1 }), /invalid \(schedule(\.scale)?: /],
    ['a step count that is not a whole number', (s) => Object.assign(s.optimizer as Header, { steps: 2.5 }), /invalid \(optimizer\.steps: /],
    ['an unknown field', (s) => Object.assign(s, { extra: 1 }), /invalid \(.*extra/],
    [
      'a rollback point ahead of the snapshot',
      (s) => Object.assign(s.last_good as Header, { epoch: 3 }),
      /rollback point, epoch 3, is ahead of epoch 2/,
    ],
  ];

  it.each(unsealed)(
    '%s: dlt eval refuses it (exit 2); dlt resume falls back to the epoch snapshot and ends like the reference',
    (_name, edit, message) => {
      const run = copyOfRun();
      edit(latestOf(run));
      const before = hashTree(run);
      const msg = expectInputError(dlt(['eval', latestOf(run)], tmp.dir));
      expect(msg).toContain(`error: ${latestOf(run)}: `);
      expect(msg).toMatch(message);
      expect(hashTree(run)).toEqual(before);
      const r = dlt(['resume', run], tmp.dir);
      expectExit(r, 0);
      expect(r.stderr).toContain(`${latestOf(run)} is unusable (`);
      expect(r.stderr).toMatch(message);
      expectSameRun(run, reference);
    },
  );

  it.each(badStates)('%s, sealed: a corrupt snapshot like any other: eval exit 2, resume falls back', (_name, edit, message) => {
    const run = copyOfRun();
    editState(latestOf(run), edit);
    const msg = expectInputError(dlt(['eval', latestOf(run)], tmp.dir));
    expect(msg).toMatch(message);
    const r = dlt(['resume', run], tmp.dir);
    expectExit(r, 0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(`resuming from ${path.join(run, 'snapshots', 'epoch-0002.safetensors')} instead`);
    expectSameRun(run, reference);
  });

  it('the sealing in these tests is the real one: a sealed edit that changes nothing still loads', () => {
    const run = copyOfRun();
    editState(latestOf(run), () => {});
    expectExit(dlt(['eval', latestOf(run)], tmp.dir), 0);
  });

  it('a sealed position past the end of an epoch (batch 1000000) is refused with exit 2 before anything is written', () => {
    const run = copyOfRun();
    editState(latestOf(run), (s) => Object.assign(s, { batch: 1_000_000 }));
    const before = hashTree(run);
    const msg = expectInputError(dlt(['resume', run], tmp.dir));
    expect(msg).toContain(`error: ${latestOf(run)}: the snapshot stands at batch 1000000 of epoch 3, but an epoch of this run has 6 batches`);
    expect(hashTree(run)).toEqual(before);
  });

  it('/dev/zero, a device, is refused at once instead of read forever', () => {
    expect(expectInputError(dlt(['eval', '/dev/zero'], tmp.dir))).toMatch(/^error: \/dev\/zero: this is not a regular file/);
  });
});
