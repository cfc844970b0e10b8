import { changeOf, checkEpoch, checkStateType, type LrChange, type Schedule, stateNumber } from './schedule.js';

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
 * factor).
 *
 * The lr is computed from the drop count k, never by repeated multiplication, so it
 * has two roundings (the power and the product) however long the run, and a resumed
 * run recomputes exactly the same value from the epoch alone. A consequence: the state
 * is just the epoch, and the base lr is the config's `optimizer.lr` at construction.
 */
export class StepSchedule implements Schedule {
  readonly type = 'step';
  private epoch = 0;

  constructor(
    private readonly baseLr: number,
    private readonly options: StepOptions,
  ) {}

  get lr(): number {
    return this.lrAfter(this.epoch);
  }

  epochEnd(epoch: number): LrChange | undefined {
    checkEpoch(this.type, this.epoch, epoch);
    const from = this.lr;
    this.epoch = epoch;
    return changeOf(from, this.lr, `step: epoch ${epoch} is a multiple of ${this.options.every}`);
  }

  toState(): Record<string, unknown> {
    return { type: this.type, epoch: this.epoch };
  }

  fromState(state: Record<string, unknown>): void {
    checkStateType(this.type, state);
    this.epoch = stateNumber(this.type, state, 'epoch', true);
  }

  private lrAfter(epoch: number): number {
    const drops = Math.floor(epoch / this.options.every);
    return this.baseLr * this.options.factor ** drops;
  }
}
