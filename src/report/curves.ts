/**
 * The chart's data: metrics.jsonl's records sorted out by kind and by step, with each
 * lr drop placed on the step axis.
 */
import { type EpochRecord, type LrDropRecord, type MetricsRecord, NAN_ROLLBACK_REASON, type NanRecord, type StepRecord } from '../train/metrics.js';

/** The records sorted out by kind, each event placed on the step axis. */
export interface Curves {
  steps: StepRecord[];
  epochs: EpochRecord[];
  drops: { record: LrDropRecord; step: number }[];
  nans: NanRecord[];
  maxStep: number;
}

export function sortCurves(records: readonly MetricsRecord[]): Curves {
  const steps: StepRecord[] = [];
  const epochs: EpochRecord[] = [];
  const drops: { record: LrDropRecord; step: number }[] = [];
  const nans: NanRecord[] = [];
  // An lr_drop record has no step: it follows its epoch's record, at that epoch's last
  // step, or, when on_nan: rollback wrote it, the nan record it follows, at its step.
  const endStep = new Map<number, number>();
  let lastStep = 0;
  let nanStep = 0;
  for (const r of records) {
    if (r.kind === 'step') {
      steps.push(r);
      lastStep = r.step;
    } else if (r.kind === 'epoch') {
      epochs.push(r);
      endStep.set(r.epoch, r.step);
      lastStep = r.step;
    } else if (r.kind === 'lr_drop') {
      drops.push({ record: r, step: r.reason === NAN_ROLLBACK_REASON ? nanStep : (endStep.get(r.epoch) ?? lastStep) });
    } else if (r.kind === 'nan') {
      nans.push(r);
      nanStep = r.step;
    }
  }
  // The writer appends in step order (resume and rollback cut the file back first); a
  // stable sort keeps the chart monotone in x even for a file that was edited by hand.
  const byStep = <T extends { step: number }>(a: T, b: T) => a.step - b.step;
  steps.sort(byStep);
  epochs.sort(byStep);
  drops.sort(byStep);
  nans.sort(byStep);
  const maxStep = maxOf([1, ...steps.map((s) => s.step), ...epochs.map((e) => e.step), ...nans.map((n) => n.step)]);
  return { steps, epochs, drops, nans, maxStep };
}

// Loops rather than Math.max(...values): a long run logged at every step has more
// points than a call may take arguments.
export function maxOf(values: readonly number[]): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}

export function minOf(values: readonly number[]): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}
