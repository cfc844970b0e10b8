import { changeOf, checkEpoch, checkStateType, type LrChange, type Schedule, stateNumber } from './schedule.js';

export interface ExponentialOptions {
  /** Multiplier per epoch, in (0, 1]. */
  gamma: number;
}

/**
 * `{type: exponential, gamma}` (PyTorch ExponentialLR), a drop after every epoch:
 *
 *   lr after epoch e = base · gamma^e
 *
 * so epoch 1 runs at base, epoch 2 at base·gamma, epoch e+1 at base·gamma^e. Every
 * epoch end reports a change, except with gamma = 1 (the lr never moves, like
 * `constant`) or once gamma^e has underflowed to the same value as the epoch before.
 * Computed from e, not by repeated multiplication (two roundings, no drift); the
 * state is just the epoch.
 */
export class ExponentialSchedule implements Schedule {
  readonly type = 'exponential';
  private epoch = 0;

  constructor(
    private readonly baseLr: number,
    private readonly options: ExponentialOptions,
  ) {}

  get lr(): number {
    return this.baseLr * this.options.gamma ** this.epoch;
  }

  epochEnd(epoch: number): LrChange | undefined {
    checkEpoch(this.type, this.epoch, epoch);
    const from = this.lr;
    this.epoch = epoch;
    return changeOf(from, this.lr, `exponential: lr × ${this.options.gamma} after epoch ${epoch}`);
  }

  toState(): Record<string, unknown> {
    return { type: this.type, epoch: this.epoch };
  }

  fromState(state: Record<string, unknown>): void {
    checkStateType(this.type, state);
    this.epoch = stateNumber(this.type, state, 'epoch', true);
  }
}
