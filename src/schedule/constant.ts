import { ClosedFormSchedule } from './schedule.js';

/**
 * `{type: constant}`: lr = base for every epoch; `epochEnd` never reports a change.
 * It still counts epochs, so a resume that forgets to restore it is caught like any other.
 */
export class ConstantSchedule extends ClosedFormSchedule {
  constructor(baseLr: number) {
    super('constant', baseLr);
  }

  protected lrAfter(): number {
    return this.baseLr;
  }

  protected reason(): string {
    return 'constant';
  }
}
