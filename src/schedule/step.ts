import { ClosedFormSchedule } from './schedule.js';

export interface StepOptions {
  /** Drop after every `every`-th epoch (≥ 1). */
  every: number;
  /** Multiplier at each drop, in (0, 1). */
  factor: number;
}

/**
 * `{type: step, every, factor}` — the tutorial's "drop by a factor of alpha every β
 * epochs" (PyTorch StepLR with step_size = every, gamma = factor):
 *
 *   lr after epoch e = base · factor^⌊e / every⌋
 *
 * so with every = 10, epochs 1–10 run at base, 11–20 at base·factor, 21–30 at
 * base·factor², ...: the drop happens at the end of each epoch that is a multiple of
 * `every`. every = 1 drops after every epoch (the same as exponential with gamma =
 * factor). The lr comes from the drop count k (two roundings, the power and the
 * product), so the base lr is the config's `optimizer.lr` at construction.
 */
export class StepSchedule extends ClosedFormSchedule {
  constructor(
    baseLr: number,
    private readonly options: StepOptions,
  ) {
    super('step', baseLr);
  }

  protected lrAfter(epoch: number): number {
    const drops = Math.floor(epoch / this.options.every);
    return this.baseLr * this.options.factor ** drops;
  }

  protected reason(epoch: number): string {
    return `step: epoch ${epoch} is a multiple of ${this.options.every}`;
  }
}
