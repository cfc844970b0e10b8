import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';

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

/**
 * Appends one JSON object per line; each line is written whole, straight to the file.
 * `bytes` is the file's length, saved in snapshots so that a resume can cut off the
 * records written after the snapshot it continues from.
 */
export class MetricsLog {
  private readonly fd: number;
  private length: number;

  /** Open for appending; `truncateTo` first cuts the file to that many bytes. */
  constructor(
    readonly file: string,
    truncateTo?: number,
  ) {
    this.fd = openSync(file, 'a');
    if (truncateTo !== undefined && truncateTo < fstatSync(this.fd).size) ftruncateSync(this.fd, truncateTo);
    this.length = fstatSync(this.fd).size;
  }

  get bytes(): number {
    return this.length;
  }

  append(record: MetricsRecord): void {
    this.length += writeSync(this.fd, JSON.stringify(record) + '\n');
  }

  /** Cut the file back to `bytes` (records after a rollback point). */
  truncate(bytes: number): void {
    ftruncateSync(this.fd, bytes);
    this.length = bytes;
  }

  close(): void {
    closeSync(this.fd);
  }
}
