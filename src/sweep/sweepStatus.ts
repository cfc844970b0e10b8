import { existsSync } from 'node:fs';
import { RunDirectory } from '../train/runDirectory.js';
import { bestRow, leaderboardTable, rank, rowFromOutcome, type TrialRow } from './leaderboard.js';
import { readResults } from './results.js';
import { SweepDirectory, type SweepRecord } from './sweepDirectory.js';
import { bestEpochOfRun } from './trialOutcome.js';

/** `dlt sweep status --json` (SPEC §6). */
export interface SweepStatus {
  name: string;
  metric: SweepRecord['metric']['name'];
  goal: SweepRecord['metric']['goal'];
  trials: { id: number; status: TrialRow['status']; params: Record<string, unknown>; metric: number | null; run_dir: string | null }[];
  best: SweepStatus['trials'][number] | null;
}

/**
 * The leaderboard of a sweep, finished or not, read without a lock (as dlt eval reads a
 * run): a trial with a result is finished or failed; one whose run directory is locked is
 * running, with the best metric so far; any other is queued (an interrupted trial waits
 * there to be resumed).
 */
export function sweepStatus(root: string): { status: SweepStatus; table: string } {
  const dir = SweepDirectory.open(root);
  const record = dir.readRecord();
  const results = readResults(dir.resultsFile);
  const rows = record.trial_list.map(({ id, params }): TrialRow => {
    const result = results.get(id);
    if (result) return rowFromOutcome(result);
    const trialDir = dir.trialDir(id);
    if (!existsSync(trialDir)) return { id, status: 'queued', params, metric: null, epoch: null, run_dir: null };
    const runDir = RunDirectory.at(trialDir);
    const running = existsSync(runDir.lockFile);
    const best = existsSync(runDir.metricsFile) ? bestSoFar(runDir.metricsFile, record.metric) : null;
    return { id, status: running ? 'running' : 'queued', params, metric: best?.metric ?? null, epoch: best?.epoch ?? null, run_dir: trialDir };
  });
  const ranked = rank(rows, record.metric);
  const json = (r: TrialRow) => ({ id: r.id, status: r.status, params: r.params, metric: r.metric, run_dir: r.run_dir });
  const best = bestRow(ranked);
  return {
    status: { name: record.name, metric: record.metric.name, goal: record.metric.goal, trials: ranked.map(json), best: best && json(best) },
    table: leaderboardTable(ranked, record.metric, Object.keys(record.parameters)),
  };
}

/** A running trial's best epoch so far; nothing when its log has no epoch yet. */
function bestSoFar(metricsFile: string, metric: SweepRecord['metric']): { metric: number; epoch: number } | null {
  try {
    return bestEpochOfRun(metricsFile, metric);
  } catch {
    return null; // an empty log (no record yet) is refused by the reader: nothing to show
  }
}
