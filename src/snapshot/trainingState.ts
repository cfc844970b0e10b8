import { z } from 'zod';
import { optimizerStateSchema } from '../optim/optimizer.js';
import { closedFormStateSchema, plateauStateSchema, scheduleStateSchema } from '../schedule/schedule.js';
import { earlyStoppingStateSchema } from '../train/earlyStopping.js';

/**
 * Everything a snapshot holds besides tensors for a resumed run to continue bit for bit
 * where the interrupted one stopped (SPEC §5 `state`), as one zod schema: the snapshot
 * reader parses the state with it before anything uses it, so a state that does not fit
 * is a corrupt snapshot like a bad checksum.
 */

const count = z.number().int().min(0);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const uint32 = z.number().int().min(0).max(0xffffffff);
/** An Rng's four 32-bit words (src/util/rng.ts); all zero is xoshiro's fixed point, never a state. */
const rngState = z
  .array(uint32)
  .length(4)
  .refine((s) => s.some((w) => w !== 0), 'an all-zero generator state is invalid');
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 hex digits');

/**
 * How far metrics.jsonl had got: its number of records and the SHA-256 of the last one
 * (its line without the newline), so that a resume can cut the log back to it and tell
 * when the log is not the one the snapshot was taken with. Snapshots of version 1 gave
 * the length in bytes instead.
 */
export const metricsPositionSchema = z.union([z.strictObject({ records: count, last_sha256: sha256.nullable() }), z.strictObject({ bytes: count })]);
export type MetricsPosition = z.infer<typeof metricsPositionSchema>;

/**
 * What on_nan: rollback returns to: the snapshot of epoch `epoch` (0: the initial state)
 * and the log as it was then. A snapshot records it so that a run resumed mid-epoch
 * rolls back where the uninterrupted run would, not to the snapshot it resumed from.
 */
export const rollbackPointSchema = z.strictObject({ epoch: count, metrics: metricsPositionSchema });
export type RollbackPoint = z.infer<typeof rollbackPointSchema>;

const commonFields = {
  /** Epochs completed. */
  epoch: count,
  /** Batches done in epoch `epoch + 1` (0 at an epoch boundary). */
  batch: count,
  /** Optimiser steps taken. */
  step: count,
  /** Shuffle stream as it was before the current epoch's shuffle, so the order regenerates. */
  shuffle_rng: rngState,
  /** Dropout stream, as it is now. */
  dropout_rng: rngState,
  /** data.augment's stream, as it is now; present exactly when the config augments. */
  augment_rng: rngState.optional(),
  /** The rolling window of batch losses, oldest first. */
  rolling_loss: z.array(finite),
  /** Step count of the optimiser. */
  optimizer: optimizerStateSchema,
  /** NaN rollbacks so far (on_nan: rollback). */
  rollbacks: count,
  best_val_accuracy: z.number().min(0).max(1).nullable(),
  /** Training seconds so far (wall clock; excluded from exactness). */
  train_seconds: z.number().min(0).refine(Number.isFinite, 'must be finite'),
  /** The backend that took the steps so far, and its threads; the dlt that wrote the file (absent in early snapshots). */
  backend: z.string().optional(),
  threads: z.number().int().min(1).optional(),
  dlt_version: z.string().optional(),
};

/** The state as version 2 writes it. */
export const trainingStateSchema = z.strictObject({
  ...commonFields,
  /** The schedule's counters, with the rollback scale of the learning rate. */
  schedule: scheduleStateSchema,
  metrics: metricsPositionSchema,
  /** Absent only in states migrated from early version-1 snapshots: the state itself is the rollback point. */
  last_good: rollbackPointSchema.optional(),
  /** Present when the config sets training.early_stopping: the best value, its epoch, the epochs since it. */
  early_stopping: earlyStoppingStateSchema.optional(),
});
export type TrainingState = z.infer<typeof trainingStateSchema>;

/**
 * The state as version 1 wrote it: the rollback scale at the top (`lr_scale`), the
 * log's length in bytes, no scale in the schedule's state.
 */
const trainingStateV1Schema = z.strictObject({
  ...commonFields,
  schedule: z.union([closedFormStateSchema.omit({ scale: true }), plateauStateSchema.omit({ scale: true })]),
  lr_scale: z.number().gt(0).max(1),
  metrics_bytes: count,
  last_good: z.strictObject({ epoch: count, metrics_bytes: count }).optional(),
});

/** The state of a version-1 snapshot in today's form: nothing is recomputed, fields move. */
export const trainingStateFromV1 = trainingStateV1Schema.transform(
  ({ lr_scale, metrics_bytes, last_good, schedule, ...rest }): TrainingState => ({
    ...rest,
    schedule: { ...schedule, scale: lr_scale },
    metrics: { bytes: metrics_bytes },
    ...(last_good ? { last_good: { epoch: last_good.epoch, metrics: { bytes: last_good.metrics_bytes } } } : {}),
  }),
);
