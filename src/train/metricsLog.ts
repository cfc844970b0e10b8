import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';
import type { MetricsPosition } from '../snapshot/trainingState.js';
import { withIo } from '../util/ioError.js';
import { writeAll } from '../util/writeAll.js';
import { type EpochRecord, epochRecordSchema, type MetricsRecord } from './metrics.js';

/**
 * A file kept beside metrics.jsonl and derived from it record by record: metrics.csv,
 * the TensorBoard event file. Built from the log's text so far, so that a cut log (a
 * resume, a rollback) rebuilds its views to match.
 */
export interface MetricsView {
  append(record: MetricsRecord, line: string): void;
  close(): void;
}
export type MetricsViews = (logText: string) => MetricsView[];

const NEWLINE = 0x0a;

/**
 * metrics.jsonl as a run writes it: one JSON object per line, each line written whole
 * (and the same record as a row of metrics.csv beside it). Its `position` — the number
 * of records and the SHA-256 of the last one — goes into every snapshot, so that a
 * resume or a rollback cuts the log back to exactly the records written before the
 * snapshot, and can tell when the file is not the log the snapshot was taken with.
 */
export class MetricsLog {
  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly makeViews: MetricsViews,
    private views: MetricsView[],
    private records: number,
    private lastHash: string | null,
  ) {}

  /** A new run's log, empty, with its views. */
  static create(file: string, views: MetricsViews): MetricsLog {
    const fd = withIo('create', file, () => openSync(file, 'ax'));
    return new MetricsLog(file, fd, views, views(''), 0, null);
  }

  /**
   * Where a resumed run's log will be cut back to, checked without writing anything:
   * `dropped` counts the complete records written after `position` (by the process that
   * was stopped), and `open` cuts them off and opens the log. A log that does not hold
   * the record the snapshot was taken after is refused, naming the line: cutting it
   * would lose or fuse records.
   */
  static check(file: string, position: MetricsPosition): { dropped: number; open(views: MetricsViews): MetricsLog } {
    const bytes = withIo('read', file, () => readFileSync(file));
    const cut = locate(bytes, position, file);
    return {
      dropped: lineEnds(bytes).length - cut.records,
      open: (views) => {
        const fd = withIo('open', file, () => openSync(file, 'a'));
        try {
          withIo('write', file, () => ftruncateSync(fd, cut.bytes));
          return new MetricsLog(file, fd, views, views(bytes.subarray(0, cut.bytes).toString('utf8')), cut.records, cut.lastHash);
        } catch (err) {
          closeSync(fd);
          throw err;
        }
      },
    };
  }

  /** Where the log stands: what a snapshot records. */
  get position(): MetricsPosition {
    return { records: this.records, last_sha256: this.lastHash };
  }

  append(record: MetricsRecord): void {
    const line = JSON.stringify(record);
    writeAll(this.fd, `${line}\n`, this.file);
    this.records++;
    this.lastHash = sha256(line);
    for (const view of this.views) view.append(record, line);
  }

  /** Cut the log back to `position`, one of this log's own (on_nan: rollback), and its views with it. */
  cutTo(position: MetricsPosition): void {
    const bytes = withIo('read', this.file, () => readFileSync(this.file));
    const cut = locate(bytes, position, this.file);
    withIo('write', this.file, () => ftruncateSync(this.fd, cut.bytes));
    this.records = cut.records;
    this.lastHash = cut.lastHash;
    for (const view of this.views) view.close();
    this.views = this.makeViews(bytes.subarray(0, cut.bytes).toString('utf8'));
  }

  close(): void {
    closeSync(this.fd);
    for (const view of this.views) view.close();
  }

  /** The last epoch record written, if any (dlt resume finishing a run stopped before its summary). */
  lastEpoch(): EpochRecord | undefined {
    const lines = withIo('read', this.file, () => readFileSync(this.file, 'utf8')).split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] ?? '';
      if (!line.includes('"kind":"epoch"')) continue;
      const record = epochRecordSchema.safeParse(parseJson(line));
      if (record.success) return record.data;
    }
    return undefined;
  }
}

/** Where `position` falls in the log's bytes: the byte length to keep, the records in it, the last one's hash. */
function locate(bytes: Uint8Array, position: MetricsPosition, file: string): { bytes: number; records: number; lastHash: string | null } {
  const ends = lineEnds(bytes);
  const lineAt = (k: number): Uint8Array => bytes.subarray(k === 0 ? 0 : (ends[k - 1] ?? 0) + 1, ends[k]);
  if ('bytes' in position) {
    // A version-1 snapshot: the length must end a line.
    const records = ends.findIndex((end) => end + 1 === position.bytes) + 1;
    if (position.bytes !== 0 && records === 0) {
      const line = ends.filter((end) => end < position.bytes).length + 1;
      throw new InputError(
        `the snapshot was taken when the log was ${position.bytes} bytes long, which ends inside line ${line}: the log was changed after the snapshot; restore the metrics.jsonl the run wrote, or start a new run`,
        file,
        { line, col: 1 },
      );
    }
    return { bytes: position.bytes, records, lastHash: records === 0 ? null : sha256(lineAt(records - 1)) };
  }
  const { records, last_sha256: expected } = position;
  if (records > ends.length) {
    throw new InputError(
      `the snapshot was taken after record ${records}, but the log holds only ${ends.length} complete records: it was cut or replaced after the snapshot; restore the metrics.jsonl the run wrote, or start a new run`,
      file,
    );
  }
  if (records > 0 && sha256(lineAt(records - 1)) !== expected) {
    const elsewhere = ends.findIndex((_, k) => sha256(lineAt(k)) === expected);
    const hint = elsewhere >= 0 ? ` (that record is on line ${elsewhere + 1}: lines were added or removed before it)` : '';
    throw new InputError(
      `this line is not the record the snapshot was taken after${hint}, so the log was edited after the snapshot; restore the metrics.jsonl the run wrote, or start a new run`,
      file,
      { line: records, col: 1 },
    );
  }
  return { bytes: records === 0 ? 0 : (ends[records - 1] ?? 0) + 1, records, lastHash: records === 0 ? null : expected };
}

/** The offsets of the log's newlines: one per complete record. */
function lineEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  for (let i = bytes.indexOf(NEWLINE); i >= 0; i = bytes.indexOf(NEWLINE, i + 1)) ends.push(i);
  return ends;
}

function sha256(line: string | Uint8Array): string {
  return createHash('sha256').update(line).digest('hex');
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
