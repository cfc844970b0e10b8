import { ClosedFormSchedule } from './schedule.js';

export interface MultistepOptions {
  /** Epochs after which to drop, strictly increasing (the config schema checks it). */
  milestones: readonly number[];
  /** Multiplier at each milestone, in (0, 1). */
  factor: number;
}

/**
 * `{type: multistep, milestones: [m1, m2, ...], factor}` (PyTorch MultiStepLR):
 *
 *   lr after epoch e = base · factor^k,   k = #{milestones m : m ≤ e}
 *
 * so with milestones [30, 60], epochs 1–30 run at base, 31–60 at base·factor, 61 on at
 * base·factor². A milestone beyond the last epoch is simply never reached.
 */
export class MultistepSchedule extends ClosedFormSchedule {
  constructor(
    baseLr: number,
    private readonly options: MultistepOptions,
  ) {
    super('multistep', baseLr);
  }

  protected lrAfter(epoch: number): number {
    let drops = 0;
    for (const m of this.options.milestones) if (m <= epoch) drops++;
    return this.baseLr * this.options.factor ** drops;
  }

  protected reason(epoch: number): string {
    return `multistep: epoch ${epoch} is a milestone (${this.options.milestones.join(', ')})`;
  }
}
