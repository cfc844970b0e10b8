/**
 * metrics.jsonl is cut back by record count, checked against the snapshot's record of
 * the last line (src/train/metricsLog.ts): a log that is not the one the snapshot was
 * taken with is refused naming the line, never cut inside a record.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import type { MetricsRecord } from '../src/train/metrics.js';
import { MetricsCsv } from '../src/train/metricsCsv.js';
import { MetricsLog, type MetricsViews } from '../src/train/metricsLog.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { expectExit, hashTree, metricsWithoutClock, sha256, trainRun } from './support/resumeSupport.js';

const tmp = tempDir('dlt-metrics-log-');
afterAll(() => tmp.cleanup());

const step = (k: number): MetricsRecord => ({ kind: 'step', epoch: 1, step: k, loss: 1 / k, loss_avg: 1, lr: 0.1 });

function freshLog(name: string, records: number): { jsonl: string; csv: string; log: MetricsLog } {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir);
  const jsonl = path.join(dir, 'metrics.jsonl');
  const csv = path.join(dir, 'metrics.csv');
  const log = MetricsLog.create(jsonl, csvView(csv));
  for (let k = 1; k <= records; k++) log.append(step(k));
  return { jsonl, csv, log };
}

function thrown(action: () => unknown): InputError {
  try {
    action();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('MetricsLog positions', () => {
  it('a position is the record count and the hash of the last line', () => {
    const { jsonl, log } = freshLog('position', 3);
    log.close();
    const lines = readFileSync(jsonl, 'utf8').split('\n');
    expect(log.position).toEqual({ records: 3, last_sha256: sha256(lines[2]!) });
    expect(freshLog('empty', 0).log.position).toEqual({ records: 0, last_sha256: null });
  });

  it('check + open cuts off the records after the position, counting them, and appends after it', () => {
    const { jsonl, csv, log } = freshLog('cut', 2);
    const at = log.position;
    log.append(step(3));
    log.close();
    appendFileSync(jsonl, '{"kind":"step","epo'); // a record cut short by a crash
    const resumed = MetricsLog.check(jsonl, at);
    expect(resumed.dropped).toBe(1);
    const reopened = resumed.open(csvView(csv));
    reopened.append(step(9));
    reopened.close();
    expect(
      readFileSync(jsonl, 'utf8')
        .split('\n')
        .map((l) => (l ? (JSON.parse(l) as { step: number }).step : l)),
    ).toEqual([1, 2, 9, '']);
  });

  it('a line added before the position is refused, naming the line and where the record went', () => {
    const { jsonl, log } = freshLog('inserted', 4);
    const at = log.position;
    log.close();
    const lines = readFileSync(jsonl, 'utf8').split('\n');
    lines.splice(1, 0, JSON.stringify(step(99)));
    writeFileSync(jsonl, lines.join('\n'));
    const before = readFileSync(jsonl);
    const err = thrown(() => MetricsLog.check(jsonl, at));
    expect(err.file).toBe(jsonl);
    expect(err.position).toEqual({ line: 4, col: 1 });
    expect(err.format()).toMatch(
      /metrics\.jsonl:4:1: this line is not the record the snapshot was taken after \(that record is on line 5: lines were added or removed before it\)/,
    );
    expect(readFileSync(jsonl)).toEqual(before); // nothing cut
  });

  it('a log shorter than the position, or an edited last record, is refused', () => {
    const { jsonl, log } = freshLog('short', 3);
    const at = log.position;
    log.close();
    writeFileSync(jsonl, `${readFileSync(jsonl, 'utf8').split('\n').slice(0, 2).join('\n')}\n`);
    expect(thrown(() => MetricsLog.check(jsonl, at)).message).toMatch(/taken after record 3, but the log holds only 2 complete records/);
    const edited = freshLog('edited', 3);
    const at2 = edited.log.position;
    edited.log.close();
    writeFileSync(edited.jsonl, readFileSync(edited.jsonl, 'utf8').replace('"step":3,', '"step":4,'));
    expect(thrown(() => MetricsLog.check(edited.jsonl, at2)).message).toMatch(
      /this line is not the record the snapshot was taken after, so the log was edited/,
    );
  });

  it("a version-1 snapshot's byte length must end a line", () => {
    const { jsonl, log } = freshLog('bytes', 3);
    log.close();
    const text = readFileSync(jsonl, 'utf8');
    const secondEnd = text.indexOf('\n', text.indexOf('\n') + 1) + 1;
    expect(MetricsLog.check(jsonl, { bytes: secondEnd }).dropped).toBe(1);
    const err = thrown(() => MetricsLog.check(jsonl, { bytes: secondEnd - 5 }));
    expect(err.position).toEqual({ line: 2, col: 1 });
    expect(err.message).toMatch(/ends inside line 2/);
  });

  it('a missing log is an input error naming it', () => {
    expect(thrown(() => MetricsLog.check(path.join(tmp.dir, 'nowhere', 'metrics.jsonl'), { records: 1, last_sha256: null })).message).toMatch(
      /cannot read: no such file/,
    );
  });
});

describe('dlt resume with an edited metrics.jsonl', () => {
  const config = tmp.write(
    'edited.yaml',
    `name: edited
seed: 5
data:
  train: {format: xor, points: 64}
model:
  input: [2]
  layers: [{type: dense, units: 8}, tanh, {type: dense, units: 2}]
optimizer: {type: sgd, lr: 0.1}
training: {epochs: 3, batch_size: 8, log_every: 2}
`,
  );

  it('a line added at the end of a finished run is dropped with a note, not fused with the next record', () => {
    const run = trainRun(config, path.join(tmp.dir, 'end'), tmp.dir);
    expectExit(run, 0);
    const before = metricsWithoutClock(run.runDir);
    appendFileSync(path.join(run.runDir, 'metrics.jsonl'), '{"kind":"note","text":"added by hand"}\n');
    const r = dlt(['resume', run.runDir, '--epochs', '4'], tmp.dir);
    expectExit(r, 0);
    expect(r.stdout).toContain('metrics.jsonl: 1 record(s) written after the snapshot were dropped');
    const after = metricsWithoutClock(run.runDir);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.every((m) => m.kind !== 'note')).toBe(true);
    expect(after.filter((m) => m.kind === 'epoch').map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
  });

  it('a line added in the middle is refused with exit 2 naming the line, and nothing is changed', () => {
    const run = trainRun(config, path.join(tmp.dir, 'middle'), tmp.dir);
    expectExit(run, 0);
    const file = path.join(run.runDir, 'metrics.jsonl');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.splice(2, 0, '{"kind":"note"}');
    writeFileSync(file, lines.join('\n'));
    const before = hashTree(run.runDir);
    const message = expectInputError(dlt(['resume', run.runDir, '--epochs', '4'], tmp.dir));
    expect(message).toMatch(
      new RegExp(`^error: ${file.replace(/[.]/g, '\\.')}:${lines.length - 2}:1: this line is not the record the snapshot was taken after`),
    );
    expect(hashTree(run.runDir)).toEqual(before);
  });
});

/** metrics.csv as the log's only view. */
function csvView(file: string): MetricsViews {
  return (text) => [MetricsCsv.rebuild(file, text)];
}
