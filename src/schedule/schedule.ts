import { z } from 'zod';
import { InputError } from '../errors.js';

/**
 * Learning-rate schedules (SPEC §3 `schedule:`). The trainer owns one schedule, reads
 * `lr` before every step, and calls `epochEnd` once at the end of each epoch (1-based),
 * after validation; the lr it leaves behind is the one the next epoch runs at. The
 * schedule is the only writer of the learning rate (as in PyTorch's lr_scheduler): the
 * on_nan: rollback policy asks it to `scaleBy` 0.1 rather than scaling the rate itself,
 * so every change of the rate comes from here as an LrChange and is recorded as an
 * `lr_drop` record.
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
  /** Why, for a person ("step: epoch 10 is a multiple of 10"), or `nan_rollback`. */
  reason: string;
}

const nonNegativeInt = z.number().int().min(0);
/** The multiplier that on_nan: rollback lowers, 1 until the first rollback. */
const scale = z.number().gt(0).max(1);

/** The state of a schedule whose lr is a formula of the epoch (ClosedFormSchedule). */
export const closedFormStateSchema = z.strictObject({
  type: z.enum(['constant', 'step', 'multistep', 'exponential']),
  epoch: nonNegativeInt,
  scale,
});

/** The state of `plateau`, whose lr depends on the history (src/schedule/plateau.ts). */
export const plateauStateSchema = z.strictObject({
  type: z.literal('plateau'),
  epoch: nonNegativeInt,
  lr: z.number().gt(0).refine(Number.isFinite, 'must be finite'),
  /** Absent in snapshots older than base_lr: the lr goes on as it was. */
  base_lr: z.number().gt(0).refine(Number.isFinite, 'must be finite').optional(),
  best: z.number().refine(Number.isFinite, 'must be finite').nullable(),
  num_bad_epochs: nonNegativeInt,
  cooldown_counter: nonNegativeInt,
  scale,
});

/** Every schedule's state as a snapshot stores it; parsed before any schedule sees it. */
export const scheduleStateSchema = z.union([closedFormStateSchema, plateauStateSchema]);
export type ScheduleState = z.infer<typeof scheduleStateSchema>;

export interface Schedule {
  readonly type: ScheduleState['type'];
  /** The learning rate for the coming steps. */
  readonly lr: number;
  /** Called after epoch `epoch` (1-based) ends; returns the change when the learning rate changed. */
  epochEnd(epoch: number, metrics: EpochMetrics): LrChange | undefined;
  /** Multiply the learning rate by `factor` from now on (on_nan: rollback); returns the change. */
  scaleBy(factor: number, reason: string): LrChange;
  /** Plain JSON data (counters, never hyperparameters), enough for an exact resume. */
  toState(): ScheduleState;
  fromState(state: ScheduleState): void;
}

/**
 * The schedules whose lr is a formula of the epoch count e alone (constant, step,
 * multistep, exponential): lr = lrAfter(e) · scale, where `scale` is 1 until on_nan:
 * rollback lowers it. The formula is evaluated afresh, never by repeated multiplication,
 * so the lr has the same few roundings however long the run, and a resumed run
 * recomputes exactly the same value from its state: the epoch and the scale.
 */
export abstract class ClosedFormSchedule implements Schedule {
  private epoch = 0;
  private scale = 1;

  constructor(
    readonly type: z.infer<typeof closedFormStateSchema>['type'],
    protected readonly baseLr: number,
  ) {}

  /** The lr after `epoch` epochs, before the rollback scale. */
  protected abstract lrAfter(epoch: number): number;
  /** Why the lr changed at the end of `epoch`, for the lr_drop record. */
  protected abstract reason(epoch: number): string;

  get lr(): number {
    return this.lrAfter(this.epoch) * this.scale;
  }

  epochEnd(epoch: number): LrChange | undefined {
    checkEpoch(this.type, this.epoch, epoch);
    const from = this.lr;
    this.epoch = epoch;
    return changeOf(from, this.lr, this.reason(epoch));
  }

  scaleBy(factor: number, reason: string): LrChange {
    const from = this.lr;
    this.scale *= factor;
    return { from, to: this.lr, reason };
  }

  toState(): ScheduleState {
    return { type: this.type, epoch: this.epoch, scale: this.scale };
  }

  fromState(state: ScheduleState): void {
    if (state.type === 'plateau' || state.type !== this.type) throw wrongType(this.type, state.type);
    this.epoch = state.epoch;
    this.scale = state.scale;
  }
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
 * A state written by a schedule of another type: the config's schedule was changed
 * (e.g. `dlt resume --set schedule.type=...`) after the snapshot was taken.
 */
export function wrongType(type: string, stateType: string): InputError {
  return new InputError(
    `the snapshot's schedule state is for a ${JSON.stringify(stateType)} schedule, but the config asks for "${type}"; ` +
      'resume with the schedule the run started with, or start a new run',
  );
}
