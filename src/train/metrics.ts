import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite.js';

/** Records of metrics.jsonl (SPEC §4). Wall-clock fields: samples_per_s, seconds. */
export interface StepRecord {
  kind: 'step';
  epoch: number;
  step: number;
  loss: number;
  loss_avg: number;
  lr: number;
}

export interface EpochRecord {
  kind: 'epoch';
  epoch: number;
  step: number;
  train_loss_avg: number;
  val_loss: number | null;
  val_accuracy: number | null;
  lr: number;
  /** l2·Σw² + l1·Σ|w| at the end of the epoch, present when regularisation is on. */
  penalty?: number;
  samples_per_s: number;
  seconds: number;
}

export interface NanRecord {
  kind: 'nan';
  epoch: number;
  step: number;
  loss: number | null;
  lr: number;
  action: 'stop' | 'rollback';
}

export interface LrDropRecord {
  kind: 'lr_drop';
  epoch: number;
  from: number;
  to: number;
  reason: string;
}

export type MetricsRecord = StepRecord | EpochRecord | NanRecord | LrDropRecord;

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
} satisfies Record<RecordField, true>;
export const CSV_COLUMNS = Object.keys(COLUMNS) as RecordField[];

/**
 * Appends one JSON object per line to metrics.jsonl, and the same record as a row of
 * metrics.csv beside it; each line is written whole, straight to the file. `bytes` is
 * metrics.jsonl's length, saved in snapshots so that a resume can cut off the records
 * written after the snapshot it continues from.
 *
 * metrics.jsonl is the record; metrics.csv is derived from it. A crash between the two
 * writes leaves the CSV a row behind, so whenever the log is opened (or cut back by a
 * rollback) the CSV is rewritten from the JSONL, atomically, and then appended to.
 */
export class MetricsLog {
  private readonly fd: number;
  private csvFd: number;
  private length: number;
  readonly csvFile: string;

  /** Open for appending; `truncateTo` first cuts the file to that many bytes. */
  constructor(
    readonly file: string,
    truncateTo?: number,
  ) {
    this.fd = openSync(file, 'a');
    if (truncateTo !== undefined && truncateTo < fstatSync(this.fd).size) ftruncateSync(this.fd, truncateTo);
    this.length = fstatSync(this.fd).size;
    this.csvFile = path.join(path.dirname(file), `${path.basename(file, '.jsonl')}.csv`);
    this.csvFd = this.rewriteCsv();
  }

  get bytes(): number {
    return this.length;
  }

  append(record: MetricsRecord): void {
    const line = JSON.stringify(record);
    this.length += writeSync(this.fd, `${line}\n`);
    // From the JSON text, so that a row written now and one rebuilt from the file agree.
    writeSync(this.csvFd, csvRow(JSON.parse(line) as Record<string, unknown>));
  }

  /** Cut the file back to `bytes` (records after a rollback point), and the CSV with it. */
  truncate(bytes: number): void {
    ftruncateSync(this.fd, bytes);
    this.length = bytes;
    closeSync(this.csvFd);
    this.csvFd = this.rewriteCsv();
  }

  close(): void {
    closeSync(this.fd);
    closeSync(this.csvFd);
  }

  /** The last epoch record written, if any. */
  lastEpoch(): EpochRecord | undefined {
    const lines = readFileSync(this.file, 'utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      if (!lines[i]!.includes('"kind":"epoch"')) continue;
      try {
        return JSON.parse(lines[i]!) as EpochRecord;
      } catch {
        // An unfinished line: look further back.
      }
    }
    return undefined;
  }

  /** Make metrics.csv match metrics.jsonl (unless it does already) and open it for appending. */
  private rewriteCsv(): number {
    const csv = csvFromJsonl(readFileSync(this.file, 'utf8'));
    if (!existsSync(this.csvFile) || readFileSync(this.csvFile, 'utf8') !== csv) writeFileAtomic(this.csvFile, csv);
    return openSync(this.csvFile, 'a');
  }
}

/**
 * metrics.csv for the records of a metrics.jsonl text: the header, then one row per
 * complete line (a line without its newline, or one that is not JSON, is left out).
 */
export function csvFromJsonl(text: string): string {
  let csv = `${CSV_COLUMNS.join(',')}\n`;
  const lines = text.split('\n');
  lines.pop(); // what follows the last newline: empty, or an unfinished record
  for (const line of lines) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof record === 'object' && record !== null && !Array.isArray(record)) csv += csvRow(record as Record<string, unknown>);
  }
  return csv;
}

/** One record as a CSV row: a cell per column, empty where the field is absent or null. */
function csvRow(record: Record<string, unknown>): string {
  return `${CSV_COLUMNS.map((column) => csvCell(record[column])).join(',')}\n`;
}

/**
 * Numbers as JSON writes them (the shortest text that reads back as the same double),
 * strings as they are, quoted per RFC 4180 when they hold a comma, a quote or a line break.
 */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
