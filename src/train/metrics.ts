import { z } from 'zod';

/**
 * Records of metrics.jsonl (SPEC §4). Wall-clock fields: samples_per_s, seconds. The
 * writer is src/train/metricsLog.ts, the table beside it src/train/metricsCsv.ts, and
 * the reader of a whole log for plots src/report/metricsFile.ts.
 */
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

/** The reason of the lr_drop record that on_nan: rollback writes after its nan record. */
export const NAN_ROLLBACK_REASON = 'nan_rollback';

export interface LrDropRecord {
  kind: 'lr_drop';
  epoch: number;
  from: number;
  to: number;
  reason: string;
}

/** Training stopped early (training.early_stopping): `monitor` had not beaten `best`, reached at `best_epoch`. */
export interface EarlyStopRecord {
  kind: 'early_stop';
  epoch: number;
  best_epoch: number;
  monitor: string;
  best: number;
}

export type MetricsRecord = StepRecord | EpochRecord | NanRecord | LrDropRecord | EarlyStopRecord;

/** An epoch record read back from a log (dlt resume finishing a run): parsed, not trusted. */
export const epochRecordSchema = z.object({
  kind: z.literal('epoch'),
  epoch: z.number().int().min(1),
  step: z.number().int().min(0),
  train_loss_avg: z.number(),
  val_loss: z.number().nullable(),
  val_accuracy: z.number().nullable(),
  lr: z.number(),
  penalty: z.number().optional(),
  samples_per_s: z.number(),
  seconds: z.number(),
});
