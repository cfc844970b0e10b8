import { checkEpoch, checkStateType, type LrChange, type Schedule, stateNumber } from './schedule.js';

/**
 * `{type: constant}`: lr = base for every epoch; `epochEnd` never reports a change.
 * It still counts epochs, so a resume that forgets to restore it is caught like any other.
 */
export class ConstantSchedule implements Schedule {
  readonly type = 'constant';
  private epoch = 0;

  constructor(readonly lr: number) {}

  epochEnd(epoch: number): LrChange | undefined {
    checkEpoch(this.type, this.epoch, epoch);
    this.epoch = epoch;
    return undefined;
  }

  toState(): Record<string, unknown> {
    return { type: this.type, epoch: this.epoch };
  }

  fromState(state: Record<string, unknown>): void {
    checkStateType(this.type, state);
    this.epoch = stateNumber(this.type, state, 'epoch', true);
  }
}
