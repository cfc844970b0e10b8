import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { csvCell } from '../util/csvCell.js';
import { withIo } from '../util/ioError.js';
import { writeAll } from '../util/writeAll.js';
import type { MetricsRecord } from './metrics.js';
import type { MetricsView } from './metricsLog.js';

type RecordField = MetricsRecord extends infer R ? (R extends unknown ? keyof R : never) : never;

/**
 * The columns of metrics.csv, in order: every field of every record kind, once. The
 * `satisfies` makes the compiler insist that a field added to a record gets a column.
 */
const COLUMNS = {
  kind: true,
  epoch: true,
  step: true,
  loss: true,
  loss_avg: true,
  lr: true,
  train_loss_avg: true,
  val_loss: true,
  val_accuracy: true,
  penalty: true,
  samples_per_s: true,
  seconds: true,
  from: true,
  to: true,
  reason: true,
  action: true,
  best_epoch: true,
  monitor: true,
  best: true,
} satisfies Record<RecordField, true>;
export const CSV_COLUMNS = Object.keys(COLUMNS);

/**
 * metrics.csv, the records of metrics.jsonl as a table for spreadsheets and pandas.
 * metrics.jsonl is the record and the CSV is derived from it: a crash between the two
 * writes leaves the CSV a row behind, so whenever the log is opened or cut back the CSV
 * is rewritten from the JSONL (atomically, unless it matches already) and then appended to.
 */
export class MetricsCsv implements MetricsView {
  private constructor(
    private readonly file: string,
    private readonly fd: number,
  ) {}

  /** The CSV for the records of `jsonl` (the log's text), open for appending. */
  static rebuild(file: string, jsonl: string): MetricsCsv {
    const csv = csvFromJsonl(jsonl);
    if (!existsSync(file) || withIo('read', file, () => readFileSync(file, 'utf8')) !== csv) writeFileAtomic(file, csv);
    return new MetricsCsv(
      file,
      withIo('open', file, () => openSync(file, 'a')),
    );
  }

  /** One record's row; `line` is its JSON line, so that a row written now and one rebuilt from the file agree. */
  append(_record: MetricsRecord, line: string): void {
    writeAll(this.fd, csvRow(parseRecordLine(line) ?? {}), this.file);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * metrics.csv for the records of a metrics.jsonl text: the header, then one row per
 * complete line (a line without its newline, or one that is not a JSON object, is left out).
 */
export function csvFromJsonl(text: string): string {
  let csv = `${CSV_COLUMNS.join(',')}\n`;
  const lines = text.split('\n');
  lines.pop(); // what follows the last newline: empty, or an unfinished record
  for (const line of lines) {
    const record = parseRecordLine(line);
    if (record) csv += csvRow(record);
  }
  return csv;
}

/** A line of the log as a JSON object, or undefined when it is not one. */
function parseRecordLine(line: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : undefined;
}

/** One record as a CSV row: a cell per column, empty where the field is absent or null. */
function csvRow(record: Record<string, unknown>): string {
  return `${CSV_COLUMNS.map((column) => csvCell(record[column])).join(',')}\n`;
}
