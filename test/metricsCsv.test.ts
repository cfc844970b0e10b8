/**
 * metrics.csv: the records of metrics.jsonl as a table for spreadsheets and pandas — a
 * fixed header, one row per record, empty cells for absent or null fields, numbers as
 * JSON writes them, strings quoted per RFC 4180 — kept equal to metrics.jsonl through
 * rollbacks, crashes and `dlt resume`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricsRecord } from '../src/train/metrics.js';
import { CSV_COLUMNS, csvFromJsonl, MetricsCsv } from '../src/train/metricsCsv.js';
import { MetricsLog, type MetricsViews } from '../src/train/metricsLog.js';
import { dlt, tempDir } from './support/cli.js';
import { expectExit, sha256, trainRun } from './support/resumeSupport.js';

const tmp = tempDir('dlt-metrics-csv-');
afterAll(() => tmp.cleanup());

const HEADER =
  'kind,epoch,step,loss,loss_avg,lr,train_loss_avg,val_loss,val_accuracy,penalty,samples_per_s,seconds,from,to,reason,action,best_epoch,monitor,best';
/** Wall-clock columns: they differ between any two runs, as in metrics.jsonl. */
const CLOCK = ['samples_per_s', 'seconds'];

/**
 * RFC 4180 parsing, written independently of the writer: fields separated by commas,
 * a quoted field may hold commas, line breaks and doubled quotes; records end with \n.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') {
      expect(field, 'a quote may only open a field').toBe('');
      quoted = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  expect(quoted, 'unterminated quoted field').toBe(false);
  expect(field + row.join(''), 'the file ends with a newline').toBe('');
  return rows;
}

/** Each record of metrics.jsonl as the cells a row must hold: JSON's text for numbers, '' for absent and null. */
function expectedRows(jsonl: string): string[][] {
  return jsonl
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const record = JSON.parse(l) as Record<string, unknown>;
      return CSV_COLUMNS.map((c) => {
        const v = record[c];
        return v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
      });
    });
}

function expectCsvMatchesJsonl(runDir: string): string[][] {
  const jsonl = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8');
  const rows = parseCsv(readFileSync(path.join(runDir, 'metrics.csv'), 'utf8'));
  expect(rows[0]!.join(',')).toBe(HEADER);
  expect(rows.slice(1)).toEqual(expectedRows(jsonl));
  return rows;
}

/**
 * metrics.csv's cells with the wall-clock ones blanked. Cells are compared as the exact
 * text between the commas, and quoting depends on that text alone, so equal cells mean
 * equal bytes outside the clock columns.
 */
function csvWithoutClock(runDir: string): string[][] {
  const clock = CLOCK.map((c) => CSV_COLUMNS.indexOf(c as (typeof CSV_COLUMNS)[number]));
  expect(clock).not.toContain(-1);
  const rows = parseCsv(readFileSync(path.join(runDir, 'metrics.csv'), 'utf8'));
  return rows.map((row, i) => (i === 0 ? row : row.map((cell, c) => (clock.includes(c) ? '·' : cell))));
}

function freshDir(name: string): string {
  const dir = path.join(tmp.dir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  return dir;
}

describe('MetricsLog writes metrics.csv beside metrics.jsonl', () => {
  const records: MetricsRecord[] = [
    { kind: 'step', epoch: 1, step: 50, loss: 2.302585092994045, loss_avg: 0.1 + 0.2, lr: 1e-7 },
    { kind: 'epoch', epoch: 1, step: 94, train_loss_avg: 0.5, val_loss: null, val_accuracy: null, lr: 0.05, samples_per_s: 1234, seconds: 1.5 },
    {
      kind: 'epoch',
      epoch: 2,
      step: 188,
      train_loss_avg: 0.25,
      val_loss: 0.3,
      val_accuracy: 0.875,
      lr: 0.05,
      penalty: 1.25e-5,
      samples_per_s: 0,
      seconds: 0,
    },
    {
      kind: 'lr_drop',
      epoch: 2,
      from: 0.05,
      to: 0.005000000000000001,
      reason: 'plateau: val_accuracy did not improve, "patience" 0, for 1 epoch\nnext line',
    },
    { kind: 'nan', epoch: 3, step: 190, loss: null, lr: 0.005, action: 'rollback' },
  ];

  it('has the header and one row per record, numbers exactly as in the JSON, null and absent fields empty', () => {
    const dir = freshDir('unit');
    const log = MetricsLog.create(path.join(dir, 'metrics.jsonl'), csvView(path.join(dir, 'metrics.csv')));
    expect(readFileSync(path.join(dir, 'metrics.csv'), 'utf8')).toBe(`${HEADER}\n`);
    for (const r of records) log.append(r);
    log.close();
    const rows = expectCsvMatchesJsonl(dir);
    expect(rows).toHaveLength(1 + records.length);
    const cell = (row: number, column: string) => rows[row]![CSV_COLUMNS.indexOf(column)];
    // shortest round-trip text, as JSON.stringify writes it
    expect(cell(1, 'loss_avg')).toBe('0.30000000000000004');
    expect(cell(1, 'lr')).toBe('1e-7');
    expect(cell(3, 'penalty')).toBe('0.0000125');
    expect(cell(4, 'to')).toBe('0.005000000000000001');
    // null and absent: empty cells
    expect(cell(2, 'val_loss')).toBe('');
    expect(cell(2, 'penalty')).toBe('');
    expect(cell(1, 'reason')).toBe('');
    expect(cell(5, 'loss')).toBe('');
    expect(cell(5, 'action')).toBe('rollback');
    // a string with a comma, quotes and a line break survives, quoted
    expect(cell(4, 'reason')).toBe((records[3] as { reason: string }).reason);
    const text = readFileSync(path.join(dir, 'metrics.csv'), 'utf8');
    expect(text).toContain(',"plateau: val_accuracy did not improve, ""patience"" 0, for 1 epoch\nnext line",');
    // plain strings are not quoted
    expect(text.split('\n')[1]).toMatch(/^step,1,50,/);
  });

  it('rebuilding from metrics.jsonl gives the same bytes as writing row by row', () => {
    const dir = path.join(tmp.dir, 'unit');
    expect(csvFromJsonl(readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8'))).toBe(readFileSync(path.join(dir, 'metrics.csv'), 'utf8'));
  });

  it('a rollback (truncate) cuts metrics.csv back with metrics.jsonl', () => {
    const dir = freshDir('rollback');
    const log = MetricsLog.create(path.join(dir, 'metrics.jsonl'), csvView(path.join(dir, 'metrics.csv')));
    log.append(records[0]!);
    const mark = log.position;
    log.append(records[1]!);
    log.append(records[2]!);
    log.cutTo(mark);
    log.append(records[4]!);
    log.close();
    const rows = expectCsvMatchesJsonl(dir);
    expect(rows.map((r) => r[0])).toEqual(['kind', 'step', 'nan']);
  });

  it('reopening at a snapshot point rewrites metrics.csv from metrics.jsonl: a row behind, a row ahead or missing', () => {
    const dir = freshDir('reopen');
    const jsonl = path.join(dir, 'metrics.jsonl');
    const csv = path.join(dir, 'metrics.csv');
    const first = MetricsLog.create(jsonl, csvView(csv));
    first.append(records[0]!);
    first.append(records[1]!);
    const snapshotAt = first.position;
    first.append(records[2]!);
    first.close();

    // a crash between the two writes of a record: the CSV a row behind
    appendFileSync(jsonl, `${JSON.stringify(records[4])}\n`);
    MetricsLog.check(jsonl, { records: 4, last_sha256: sha256(JSON.stringify(records[4])) })
      .open(csvView(csv))
      .close();
    expect(expectCsvMatchesJsonl(dir)).toHaveLength(1 + 4);

    // resume from the snapshot: both cut back to it
    appendFileSync(csv, 'step,9,9,,,,,,,,,,,,,\n');
    const resumed = MetricsLog.check(jsonl, snapshotAt).open(csvView(csv));
    expect(expectCsvMatchesJsonl(dir)).toHaveLength(1 + 2);
    resumed.append(records[3]!);
    resumed.close();
    expect(expectCsvMatchesJsonl(dir)).toHaveLength(1 + 3);

    // a run directory from before metrics.csv existed gets one
    rmSync(csv);
    MetricsLog.check(jsonl, snapshotAt).open(csvView(csv)).close();
    expect(existsSync(csv)).toBe(true);
    expect(expectCsvMatchesJsonl(dir)).toHaveLength(1 + 2);
  });

  it('leaves an unfinished last line of metrics.jsonl out', () => {
    expect(csvFromJsonl('{"kind":"step","epoch":1,"step":2,"loss":1,"loss_avg":1,"lr":0.1}\n{"kind":"ep')).toBe(
      `${HEADER}\nstep,1,2,1,1,0.1,,,,,,,,,,,,,\n`,
    );
  });
});

describe('metrics.csv of a training run', () => {
  // 165 spiral points, 20% held out: 132 training samples, batch 16 → 9 steps per epoch;
  // step records every 2 steps, a step schedule that drops the lr (lr_drop records), and
  // L2 so that epoch records carry a penalty.
  const config = tmp.write(
    'run.yaml',
    `name: csv
seed: 11
data:
  train: {format: spiral, classes: 3, points_per_class: 55, noise: 0.15}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers: [{type: dense, units: 16}, relu, {type: dense, units: 3, init: xavier}]
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
schedule: {type: step, every: 2, factor: 0.5}
regularization: {l2: 0.001}
training: {epochs: 4, batch_size: 16, log_every: 2, loss_window: 4}
`,
  );
  let outs = 0;
  const train = (env: Record<string, string> = {}) => trainRun(config, path.join(tmp.dir, `out-${++outs}`), tmp.dir, env);

  let referenceDir: string | undefined;
  const reference = (): string => {
    if (referenceDir === undefined) {
      const r = train();
      expectExit(r, 0);
      referenceDir = r.runDir;
    }
    return referenceDir;
  };

  it('has a row per metrics.jsonl record, of every kind the run wrote', () => {
    const rows = expectCsvMatchesJsonl(reference());
    const kinds = new Set(rows.slice(1).map((r) => r[0]));
    expect(kinds).toEqual(new Set(['step', 'epoch', 'lr_drop']));
    expect(rows.filter((r) => r[0] === 'epoch')).toHaveLength(4);
  });

  it('an interrupted and resumed run ends with the same metrics.csv, wall-clock cells aside', () => {
    const interrupted = train({ DLT_INTERRUPT_AT_STEP: '13' });
    expectExit(interrupted, 130);
    expectCsvMatchesJsonl(interrupted.runDir);
    expectExit(dlt(['resume', interrupted.runDir], tmp.dir), 0);
    expectCsvMatchesJsonl(interrupted.runDir);
    expect(csvWithoutClock(interrupted.runDir)).toEqual(csvWithoutClock(reference()));
  });

  it('a resume repairs a metrics.csv left behind, ahead or removed by a crash', () => {
    const run = train({ DLT_INTERRUPT_AT_STEP: '22' });
    expectExit(run, 130);
    const csv = path.join(run.runDir, 'metrics.csv');
    const lines = readFileSync(csv, 'utf8').split('\n');
    // a crash after the last jsonl record and before its row, and a row the snapshot never saw
    const damaged = [...lines.slice(0, -2), 'epoch,99,999,,,0.1,1,1,1,,1,1,,,,', ''].join('\n');
    writeFileSync(csv, damaged);
    const second = dlt(['resume', run.runDir], tmp.dir, { DLT_INTERRUPT_AT_STEP: '30' });
    expectExit(second, 130);
    expectCsvMatchesJsonl(run.runDir);
    rmSync(csv);
    expectExit(dlt(['resume', run.runDir], tmp.dir), 0);
    expectCsvMatchesJsonl(run.runDir);
    expect(csvWithoutClock(run.runDir)).toEqual(csvWithoutClock(reference()));
  });
});

/** metrics.csv as the log's only view. */
function csvView(file: string): MetricsViews {
  return (text) => [MetricsCsv.rebuild(file, text)];
}
