import { z } from 'zod';
import { readMetricsFile } from '../report/metricsFile.js';
import type { EpochRecord } from '../train/metrics.js';
import type { SweepMetric } from './sweepSchema.js';

/**
 * How a trial ended, as results.jsonl records it and a queue job returns it: its metric is
 * the best value the sweep's metric took over the trial's evaluated epochs (as Keras Tuner
 * scores a trial), with that epoch.
 */
export const trialOutcomeSchema = z.strictObject({
  id: z.number().int().min(1),
  status: z.enum(['finished', 'failed']),
  params: z.record(z.string(), z.unknown()),
  /** Null when the trial failed, or never evaluated the metric. */
  metric: z.number().nullable(),
  epoch: z.number().int().min(1).nullable(),
  run_dir: z.string(),
  /** Why it failed (the error dlt printed), for failed trials. */
  error: z.string().optional(),
});
export type TrialOutcome = z.infer<typeof trialOutcomeSchema>;

/** The best value of `metric` over the epoch records, and its epoch (the first, on ties). */
export function bestEpoch(records: readonly EpochRecord[], metric: SweepMetric): { metric: number; epoch: number } | null {
  let best: { metric: number; epoch: number } | null = null;
  for (const r of records) {
    const value = r[metric.name];
    if (value === null || !Number.isFinite(value)) continue;
    if (best === null || (metric.goal === 'maximize' ? value > best.metric : value < best.metric)) best = { metric: value, epoch: r.epoch };
  }
  return best;
}

/** The best epoch of a finished run, read from its metrics.jsonl. */
export function bestEpochOfRun(metricsFile: string, metric: SweepMetric): { metric: number; epoch: number } | null {
  const epochs = readMetricsFile(metricsFile).records.filter((r): r is EpochRecord => r.kind === 'epoch');
  return bestEpoch(epochs, metric);
}
