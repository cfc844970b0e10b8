import { closeSync, openSync, writeSync } from 'node:fs';

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
  action: 'stop';
}

export interface LrDropRecord {
  kind: 'lr_drop';
  epoch: number;
  from: number;
  to: number;
  reason: string;
}

export type MetricsRecord = StepRecord | EpochRecord | NanRecord | LrDropRecord;

/** Appends one JSON object per line; each line is written whole, straight to the file. */
export class MetricsLog {
  private readonly fd: number;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
  }

  append(record: MetricsRecord): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
  }

  close(): void {
    closeSync(this.fd);
  }
}
