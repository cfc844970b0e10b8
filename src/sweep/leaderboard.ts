import path from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { csvCell } from '../util/csvCell.js';
import { formatValue } from './sweepFile.js';
import type { SweepMetric } from './sweepSchema.js';
import type { TrialOutcome } from './trialOutcome.js';
import { trialName } from './trials.js';

/**
 * The trials ranked by the sweep's metric, best first: finished trials with a metric by
 * it (ties: the lower trial number), then finished trials without one, then failed ones,
 * then those not yet ended, each by trial number.
 */

export type TrialStatus = 'queued' | 'running' | 'finished' | 'failed';

/** A row of the leaderboard: a trial and where it stands. */
export interface TrialRow {
  id: number;
  status: TrialStatus;
  params: Record<string, unknown>;
  metric: number | null;
  epoch: number | null;
  run_dir: string | null;
}

export function rowFromOutcome(o: TrialOutcome): TrialRow {
  return { id: o.id, status: o.status, params: o.params, metric: o.metric, epoch: o.epoch, run_dir: o.run_dir };
}

export function rank(rows: readonly TrialRow[], metric: SweepMetric): TrialRow[] {
  const group = (r: TrialRow) => (r.status === 'finished' ? (r.metric === null ? 1 : 0) : r.status === 'failed' ? 2 : 3);
  const sign = metric.goal === 'maximize' ? -1 : 1;
  return [...rows].sort((a, b) => group(a) - group(b) || (group(a) === 0 ? sign * (a.metric! - b.metric!) : 0) || a.id - b.id);
}

/** The best trial: the first of the ranking, when it finished with a metric. */
export function bestRow(ranked: readonly TrialRow[]): TrialRow | null {
  const first = ranked[0];
  return first && first.status === 'finished' && first.metric !== null ? first : null;
}

/** leaderboard.csv: rank, trial, status, the metric, its epoch, one column per swept key, the run directory. */
export function leaderboardCsv(ranked: readonly TrialRow[], metric: SweepMetric, keys: readonly string[]): string {
  const header = ['rank', 'trial', 'status', metric.name, 'epoch', ...keys, 'run_dir'];
  const lines = ranked.map((r, i) =>
    [i + 1, trialName(r.id), r.status, r.metric, r.epoch, ...keys.map((k) => r.params[k]), r.run_dir].map(csvCell).join(','),
  );
  return `${[header.map(csvCell).join(','), ...lines].join('\n')}\n`;
}

export function writeLeaderboard(file: string, ranked: readonly TrialRow[], metric: SweepMetric, keys: readonly string[]): void {
  writeFileAtomic(file, leaderboardCsv(ranked, metric, keys));
}

/** The leaderboard as the terminal shows it: aligned columns, the metric to 4 decimals, run dirs relative to `cwd` when inside it. */
export function leaderboardTable(ranked: readonly TrialRow[], metric: SweepMetric, keys: readonly string[], cwd = process.cwd()): string {
  const header = ['#', 'trial', 'status', metric.name, 'epoch', ...keys, 'run_dir'];
  const rows = ranked.map((r, i) => [
    String(i + 1),
    trialName(r.id),
    r.status,
    r.metric === null ? '-' : r.metric.toFixed(4),
    r.epoch === null ? '-' : String(r.epoch),
    ...keys.map((k) => (k in r.params ? formatValue(r.params[k]) : '')),
    r.run_dir === null ? '-' : shortPath(r.run_dir, cwd),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  return `${[header, ...rows]
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

/** A path relative to `cwd` when it lies inside it, else as it is. */
function shortPath(p: string, cwd: string): string {
  const relative = path.relative(cwd, p);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? p : relative;
}
