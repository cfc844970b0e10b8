import { checkEpoch, type EpochMetrics, type LrChange, type Schedule, type ScheduleState, wrongType } from './schedule.js';

export type PlateauMonitor = 'train_loss_avg' | 'val_loss' | 'val_accuracy';

export interface PlateauOptions {
  /** The metric to watch; losses are minimised, val_accuracy is maximised. */
  monitor: PlateauMonitor;
  /** Multiplier at each drop, in (0, 1). */
  factor: number;
  /** Bad epochs tolerated before a drop (≥ 0); see the class comment. */
  patience: number;
  /** Relative improvement needed to count as better (≥ 0). */
  threshold: number;
  /** Evaluated epochs to wait after a drop before counting bad epochs again (≥ 0). */
  cooldown: number;
  /** The lr never goes below this (≥ 0). */
  minLr: number;
}

/**
 * Smallest lr decrease that is applied, as PyTorch's ReduceLROnPlateau `eps`: a drop
 * smaller than this (because min_lr is reached, or the lr is already ~1e-8) is ignored.
 */
const EPS = 1e-8;

/**
 * `{type: plateau, ...}` — the tutorial's "drop LR (typically 1/10) when learning appears
 * stuck", automated; "better yet, drop LR based on val accuracy, not training loss".
 * The semantics are PyTorch's ReduceLROnPlateau with threshold_mode = 'rel', so a
 * config behaves the same in both:
 *
 *   mode      min for train_loss_avg and val_loss, max for val_accuracy
 *   better    min: current < best·(1 − threshold)      max: current > best·(1 + threshold)
 *             (relative: with threshold 1e-4 and best 0.5, a loss must fall below
 *             0.49995; a NaN is never better)
 *   each evaluated epoch, in this order:
 *     1. better → best = current, num_bad_epochs = 0; else num_bad_epochs += 1
 *     2. in cooldown (cooldown_counter > 0) → cooldown_counter −= 1, num_bad_epochs = 0
 *     3. num_bad_epochs > patience → new = max(lr·factor, min_lr); if lr − new > 1e-8
 *        the lr becomes new (a change is reported); either way cooldown_counter =
 *        cooldown and num_bad_epochs = 0
 *
 * So the lr drops at the end of the (patience+1)-th consecutive epoch without
 * improvement: patience = 0 drops after the first bad epoch, patience = 2 after the
 * third. After a drop, the next `cooldown` evaluated epochs count nothing, then
 * patience+1 more bad epochs are needed for the next drop; `best` keeps being updated
 * during cooldown. Once the lr is at min_lr (or within 1e-8 of it) it never changes
 * again and no change is reported, though the counters still cycle.
 *
 * A null metric (no validation this epoch, e.g. eval_every > 1) leaves best and both
 * counters untouched: patience and cooldown count *evaluated* epochs, so with
 * eval_every: 5 and patience: 2 a drop needs three bad evaluations, 15 epochs.
 * train_loss_avg is never null.
 *
 * State: the current lr (it depends on the history, unlike step's), the base lr it
 * started from, best (null until the first evaluated epoch, as JSON has no Infinity),
 * num_bad_epochs, cooldown_counter, and the rollback scale (the lr used is the current
 * lr times the scale, which only on_nan: rollback lowers). A resume with another base lr
 * (`--set optimizer.lr`) scales the current lr by new base / old base: the drops taken
 * so far still apply, as with the schedules that compute the lr from the epoch.
 */
export class PlateauSchedule implements Schedule {
  readonly type = 'plateau';
  private epoch = 0;
  private currentLr: number;
  /** Best monitored value so far; null before the first evaluation (PyTorch: ±inf). */
  private best: number | null = null;
  private numBadEpochs = 0;
  private cooldownCounter = 0;
  private scale = 1;

  constructor(
    private readonly baseLr: number,
    private readonly options: PlateauOptions,
  ) {
    this.currentLr = baseLr;
  }

  get lr(): number {
    return this.currentLr * this.scale;
  }

  epochEnd(epoch: number, metrics: EpochMetrics): LrChange | undefined {
    checkEpoch(this.type, this.epoch, epoch);
    this.epoch = epoch;
    const { monitor, patience, factor, cooldown, minLr } = this.options;
    const current = metrics[monitor];
    if (current === null) return undefined;

    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs++;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0; // bad epochs during cooldown do not count
    }
    if (this.numBadEpochs <= patience) return undefined;

    const bad = this.numBadEpochs;
    this.cooldownCounter = cooldown;
    this.numBadEpochs = 0;
    const old = this.currentLr;
    const reduced = Math.max(old * factor, minLr);
    if (old - reduced <= EPS) return undefined;
    const from = this.lr;
    this.currentLr = reduced;
    const floor = reduced === minLr ? `; held at min_lr ${minLr}` : '';
    return { from, to: this.lr, reason: `plateau: ${monitor} has not improved on ${this.best} for ${bad} epoch${bad === 1 ? '' : 's'}${floor}` };
  }

  scaleBy(factor: number, reason: string): LrChange {
    const from = this.lr;
    this.scale *= factor;
    return { from, to: this.lr, reason };
  }

  toState(): ScheduleState {
    return {
      type: this.type,
      epoch: this.epoch,
      lr: this.currentLr,
      base_lr: this.baseLr,
      best: this.best,
      num_bad_epochs: this.numBadEpochs,
      cooldown_counter: this.cooldownCounter,
      scale: this.scale,
    };
  }

  fromState(state: ScheduleState): void {
    if (state.type !== 'plateau') throw wrongType(this.type, state.type);
    this.epoch = state.epoch;
    // A resume with another base lr keeps the drops taken: the lr scales by new / old.
    this.currentLr = state.base_lr === undefined || state.base_lr === this.baseLr ? state.lr : state.lr * (this.baseLr / state.base_lr);
    this.best = state.best;
    this.numBadEpochs = state.num_bad_epochs;
    this.cooldownCounter = state.cooldown_counter;
    this.scale = state.scale;
  }

  private isBetter(current: number): boolean {
    if (this.best === null) return !Number.isNaN(current); // anything beats ±inf
    const { monitor, threshold } = this.options;
    return monitor === 'val_accuracy' ? current > this.best * (1 + threshold) : current < this.best * (1 - threshold);
  }
}
