import { ClosedFormSchedule } from './schedule.js';

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
 */
export class ExponentialSchedule extends ClosedFormSchedule {
  constructor(
    baseLr: number,
    private readonly options: ExponentialOptions,
  ) {
    super('exponential', baseLr);
  }

  protected lrAfter(epoch: number): number {
    return this.baseLr * this.options.gamma ** epoch;
  }

  protected reason(epoch: number): string {
    return `exponential: lr × ${this.options.gamma} after epoch ${epoch}`;
  }
}
