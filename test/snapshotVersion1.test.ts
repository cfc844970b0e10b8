/**
 * Snapshots written by the previous release (format version 1: the checksum covers the
 * tensor bytes only, the state has lr_scale and metrics_bytes) still load: test/fixtures
 * holds a run directory that release wrote, stopped inside epoch 3 of 5. dlt eval and
 * inspect read it; dlt resume continues it (its state moved into today's form, nothing
 * recomputed) to the same end as the same run rewritten in version 2, writing version 2
 * from then on.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSnapshot } from '../src/snapshot/snapshot.js';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import {
  expectExit,
  expectSameFinalTensors,
  metricsWithoutClock,
  snapshotFiles,
  snapshotState,
  summaryWithoutClock,
} from './support/resumeSupport.js';
import { editHeader, type Header } from './support/snapshotEdit.js';

const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'v1-run');
const tmp = tempDir('dlt-v1-');
afterAll(() => tmp.cleanup());

let copies = 0;
function copyOfFixture(): string {
  const dir = path.join(tmp.dir, `copy-${++copies}`, 'v1-run');
  cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

/** A version-1 snapshot in version 2's form, edited as the format is documented (SPEC.md, README). */
function rewriteAsVersion2(file: string): void {
  editHeader(
    file,
    (header) => {
      const metadata = header.__metadata__ as Header;
      const { lr_scale, metrics_bytes, last_good, schedule, ...rest } = JSON.parse(String(metadata.state)) as Header;
      const lastGood = last_good as Header | undefined;
      const state = {
        ...rest,
        schedule: { ...(schedule as Header), scale: lr_scale ?? null },
        metrics: { bytes: metrics_bytes ?? null },
        ...(lastGood ? { last_good: { epoch: lastGood.epoch ?? null, metrics: { bytes: lastGood.metrics_bytes ?? null } } } : {}),
      };
      metadata.state = JSON.stringify(state);
      metadata.version = '2';
    },
    true,
  );
}

describe('a run directory written by format version 1', () => {
  it('its snapshots read as version 1, with the state in today’s form', () => {
    const snapshot = readSnapshot(path.join(FIXTURE, 'snapshots', 'latest.safetensors'));
    expect(snapshot.version).toBe(1);
    expect(snapshot.state).toMatchObject({
      epoch: 2,
      batch: 2,
      step: 12,
      schedule: { type: 'plateau', scale: 1 },
      metrics: { bytes: expect.any(Number) },
    });
    expect(snapshot.state.last_good).toEqual({ epoch: 2, metrics: { bytes: expect.any(Number) } });
  });

  it('dlt eval and dlt inspect read it', () => {
    const run = copyOfFixture();
    const evaluated = dlt(['eval', run, '--json'], tmp.dir);
    expectExit(evaluated, 0);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ split: 'test', samples: 30 });
    const inspected = dlt(['inspect', run, '--json'], tmp.dir);
    expectExit(inspected, 0);
    expect(JSON.parse(inspected.stdout)).toMatchObject({ format_version: 1, training: { epoch: 2, batch: 2, step: 12, lr_scale: 1 } });
  });

  it('dlt resume continues it exactly as from the same snapshots in version 2, and writes version 2', () => {
    // The reference is the fixture rewritten by hand into version 2 as the format is
    // documented: the scale into the schedule's state, the log position as {bytes}, the
    // checksum over the metadata too. (A run trained today from the start is no reference:
    // this release rounds the JavaScript backend's float32 products differently from the
    // one that wrote the fixture; README, "Determinism".)
    const run = copyOfFixture();
    const rewritten = copyOfFixture();
    for (const file of snapshotFiles(rewritten)) rewriteAsVersion2(path.join(rewritten, file));
    expect(readSnapshot(path.join(rewritten, 'snapshots', 'latest.safetensors')).version).toBe(2);
    const before = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8');
    for (const dir of [run, rewritten]) expectExit(dlt(['resume', dir, '--backend', 'js'], tmp.dir), 0);
    expectSameFinalTensors(run, rewritten);
    expect(metricsWithoutClock(run)).toEqual(metricsWithoutClock(rewritten));
    expect(summaryWithoutClock(run)).toEqual(summaryWithoutClock(rewritten));
    expect(readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').startsWith(before)).toBe(true);
    expect(snapshotState(path.join(run, 'snapshots', 'latest.safetensors'))).toMatchObject({ epoch: 5, batch: 0 });
    expect(readSnapshot(path.join(run, 'snapshots', 'latest.safetensors')).version).toBe(2);
  });

  it('its checksum still guards the tensor bytes', () => {
    const run = copyOfFixture();
    const latest = path.join(run, 'snapshots', 'latest.safetensors');
    const bytes = readFileSync(latest);
    bytes[bytes.length - 3]! ^= 0x40;
    writeFileSync(latest, bytes);
    expect(expectInputError(dlt(['eval', latest], tmp.dir))).toMatch(/checksum mismatch: the tensor data hashes to sha256/);
  });

  it('a version-1 file without its checksum is refused too', () => {
    const run = copyOfFixture();
    const latest = path.join(run, 'snapshots', 'latest.safetensors');
    editHeader(latest, (h) => void delete (h.__metadata__ as Header).sha256, false);
    expect(expectInputError(dlt(['eval', latest], tmp.dir))).toMatch(/has no sha256 checksum/);
  });
});
