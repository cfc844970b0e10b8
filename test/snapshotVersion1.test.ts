/**
 * Snapshots written by the previous release (format version 1: the checksum covers the
 * tensor bytes only, the state has lr_scale and metrics_bytes) still load: test/fixtures
 * holds a run directory that release wrote, stopped inside epoch 3 of 5. dlt eval and
 * inspect read it; dlt resume continues it (its state moved into today's form, nothing
 * recomputed) to the same end as a run trained today without a stop, writing version 2
 * from then on.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSnapshot } from '../src/snapshot/snapshot.js';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import { expectExit, expectSameFinalTensors, metricsWithoutClock, summaryWithoutClock, trainRun } from './support/resumeSupport.js';
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

  it('dlt resume continues it to the end of an uninterrupted run trained today, and writes version 2', () => {
    const run = copyOfFixture();
    const r = dlt(['resume', run, '--backend', 'js'], tmp.dir);
    expectExit(r, 0);
    const reference = trainRun(path.join(FIXTURE, 'config.yaml'), path.join(tmp.dir, 'reference'), tmp.dir, {}, ['--backend', 'js']);
    expectExit(reference, 0);
    expectSameFinalTensors(run, reference.runDir);
    expect(metricsWithoutClock(run)).toEqual(metricsWithoutClock(reference.runDir));
    expect(summaryWithoutClock(run)).toEqual(summaryWithoutClock(reference.runDir));
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
