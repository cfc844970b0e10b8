import { z } from 'zod';
import type { EarlyStoppingSpec } from '../config/schema.js';
import type { EpochMetrics } from '../schedule/schedule.js';

/** What early stopping keeps between epochs; a snapshot stores it, so a resume stops where the run would have. */
export const earlyStoppingStateSchema = z.strictObject({
  /** The best monitored value so far, null before the first evaluated epoch. */
  best: z.number().refine(Number.isFinite, 'must be finite').nullable(),
  /** The epoch that gave it (0 before the first). */
  best_epoch: z.number().int().min(0),
  /** Evaluated epochs since then without improvement. */
  bad_epochs: z.number().int().min(0),
  /** The epoch at which training stopped early, or null while it goes on. */
  stopped_at: z.number().int().min(1).nullable(),
  /** Whether the best epoch's parameters have been restored at the end of training (restore_best). */
  restored: z.boolean(),
});
export type EarlyStoppingState = z.infer<typeof earlyStoppingStateSchema>;

/**
 * `training.early_stopping` (Keras's EarlyStopping, with its min_delta rule): an evaluated
 * epoch improves when the monitored value beats the best so far by more than min_delta —
 * higher for val_accuracy, lower for the losses; the first evaluated epoch always does.
 * After `patience` evaluated epochs in a row without improvement (patience 0: the first
 * one), training stops. Epochs without validation (eval_every > 1) count for nothing, as
 * for the plateau schedule; train_loss_avg is there every epoch. With restore_best, the
 * run ends — stopped early or not — with the best epoch's parameters (Keras 3's rule).
 */
export class EarlyStopping {
  private state: EarlyStoppingState = { best: null, best_epoch: 0, bad_epochs: 0, stopped_at: null, restored: false };

  constructor(readonly spec: EarlyStoppingSpec) {}

  /** Epoch `epoch` ended with `metrics`: did it improve, and does training stop here? */
  epochEnd(epoch: number, metrics: EpochMetrics): { improved: boolean; stop: boolean } {
    const current = metrics[this.spec.monitor];
    if (current === null || Number.isNaN(current)) return { improved: false, stop: false };
    const { best } = this.state;
    const delta = this.spec.min_delta;
    const improved = best === null || (this.spec.monitor === 'val_accuracy' ? current > best + delta : current < best - delta);
    if (improved) this.state = { ...this.state, best: current, best_epoch: epoch, bad_epochs: 0 };
    else this.state = { ...this.state, bad_epochs: this.state.bad_epochs + 1 };
    const stop = !improved && this.state.bad_epochs >= this.spec.patience;
    if (stop) this.state = { ...this.state, stopped_at: epoch };
    return { improved, stop };
  }

  get stoppedAt(): number | null {
    return this.state.stopped_at;
  }

  get bestEpoch(): number {
    return this.state.best_epoch;
  }

  get best(): number | null {
    return this.state.best;
  }

  /**
   * Whether the best epoch's parameters are still to be restored, now that training has
   * ended (stopped early, or `trainedAll` its epochs): restore_best, a best epoch, not done yet.
   */
  restorePending(trainedAll: boolean): boolean {
    return this.spec.restore_best && (this.state.stopped_at !== null || trainedAll) && !this.state.restored && this.state.best_epoch > 0;
  }

  /** Whether the run has ended with its best epoch's parameters restored. */
  get restored(): boolean {
    return this.state.restored;
  }

  markRestored(): void {
    this.state = { ...this.state, restored: true };
  }

  toState(): EarlyStoppingState {
    return { ...this.state };
  }

  fromState(state: EarlyStoppingState): void {
    this.state = { ...state };
  }
}
