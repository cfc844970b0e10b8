import { changeOf, checkEpoch, checkStateType, type LrChange, type Schedule, stateNumber } from './schedule.js';

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
 * base·factor². A milestone beyond the last epoch is simply never reached. As for
 * `step`, the lr comes from the count k (two roundings, no drift) and the state is
 * just the epoch.
 */
export class MultistepSchedule implements Schedule {
  readonly type = 'multistep';
  private epoch = 0;

  constructor(
    private readonly baseLr: number,
    private readonly options: MultistepOptions,
  ) {}

  get lr(): number {
    let drops = 0;
    for (const m of this.options.milestones) if (m <= this.epoch) drops++;
    return this.baseLr * this.options.factor ** drops;
  }

  epochEnd(epoch: number): LrChange | undefined {
    checkEpoch(this.type, this.epoch, epoch);
    const from = this.lr;
    this.epoch = epoch;
    return changeOf(from, this.lr, `multistep: epoch ${epoch} is a milestone (${this.options.milestones.join(', ')})`);
  }

  toState(): Record<string, unknown> {
    return { type: this.type, epoch: this.epoch };
  }

  fromState(state: Record<string, unknown>): void {
    checkStateType(this.type, state);
    this.epoch = stateNumber(this.type, state, 'epoch', true);
  }
}
