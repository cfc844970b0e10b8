import { InputError } from '../errors.js';

/**
 * Learning-rate schedules (SPEC §3 `schedule:`). The trainer owns one schedule, reads
 * `lr` before every step, and calls `epochEnd` once at the end of each epoch (1-based),
 * after validation; the lr it leaves behind is the one the next epoch runs at. The
 * schedule is the only place that writes the learning rate (as in PyTorch's
 * lr_scheduler), so `lr_drop` events come from here and nowhere else.
 */

/** What the trainer knows at the end of an epoch; null when there was no validation. */
export interface EpochMetrics {
  /** Rolling average of the batch loss over the last `loss_window` batches (src/train/rollingAverage.ts). */
  train_loss_avg: number;
  val_loss: number | null;
  val_accuracy: number | null;
}

/** One learning-rate change, as written to metrics.jsonl (`{"kind":"lr_drop", ...}`). */
export interface LrChange {
  from: number;
  to: number;
  /** Why, for a person: e.g. "step: epoch 10 is a multiple of 10". */
  reason: string;
}

export interface Schedule {
  readonly type: string;
  /** The learning rate for the coming steps. */
  readonly lr: number;
  /** Called after epoch `epoch` (1-based) ends; returns the change when the learning rate changed. */
  epochEnd(epoch: number, metrics: EpochMetrics): LrChange | undefined;
  /** Plain JSON data (counters, never hyperparameters), enough for an exact resume. */
  toState(): Record<string, unknown>;
  fromState(state: Record<string, unknown>): void;
}

// ------------------------------------------------------------ shared by the schedules

/**
 * Epochs must arrive one by one: 1, 2, 3, ... after a fresh start, k+1, k+2, ... after
 * `fromState` of a schedule that had seen k. Anything else is a trainer bug (e.g. a
 * resume that forgot to restore the schedule), and a silent skip would misplace drops.
 */
export function checkEpoch(type: string, lastEpoch: number, epoch: number): void {
  if (epoch !== lastEpoch + 1) {
    throw new Error(
      `${type} schedule: epochEnd(${epoch}) after epoch ${lastEpoch}; epochs must be consecutive (was the schedule state restored on resume?)`,
    );
  }
}

/** The change from `from` to `to`, or undefined when the value did not move. */
export function changeOf(from: number, to: number, reason: string): LrChange | undefined {
  return from === to ? undefined : { from, to, reason };
}

/**
 * Check that `state` was written by a schedule of this type. A mismatch means the
 * config's schedule was changed (e.g. `dlt resume --set schedule.type=...`) after the
 * snapshot was taken.
 */
export function checkStateType(type: string, state: Record<string, unknown>): void {
  if (state.type !== type) {
    throw new InputError(
      `the snapshot's schedule state is for a ${JSON.stringify(state.type)} schedule, but the config asks for "${type}"; ` +
        'resume with the schedule the run started with, or start a new run',
    );
  }
}

/** A finite number field of a schedule state read from a snapshot; `integer` for counters. */
export function stateNumber(type: string, state: Record<string, unknown>, key: string, integer = false): number {
  const v = state[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new InputError(
      `the snapshot's ${type} schedule state has ${key} = ${JSON.stringify(v)}, expected ${integer ? 'a whole number' : 'a finite number'}; the file is damaged`,
    );
  }
  return v;
}
