import { isDeepStrictEqual } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { InputError, Interrupted, RunError } from '../errors.js';
import { RunLock } from '../train/runLock.js';
import type { SweepEngine } from './engine.js';
import { leaderboardTable, rank, rowFromOutcome, type TrialRow, writeLeaderboard } from './leaderboard.js';
import { appendResult, readResults } from './results.js';
import type { TrialJob } from './runTrial.js';
import { SweepDirectory, sweepRecord } from './sweepDirectory.js';
import { loadSweep, type Sweep, type SweepTrial } from './sweepFile.js';
import type { SweepProgress } from './sweepProgress.js';
import type { TrialOutcome } from './trialOutcome.js';

export interface SweepOptions {
  /** Folder in which the sweep directory is created. */
  outDir: string;
  /** Continue this sweep directory instead of creating one. */
  resumeDir?: string;
  /** Create the sweep directory and stop there, every trial queued (for `dlt sweep trial`). */
  createOnly?: boolean;
  /** The engine, built once the sweep directory is known (the local one needs its folder). */
  engine: (dir: SweepDirectory, sweep: Sweep) => SweepEngine;
  progress: SweepProgress;
  /** Registers what a stop request (SIGINT, SIGTERM) does. */
  onStopRequest: (stop: () => void) => void;
}

export interface SweepResult {
  dir: SweepDirectory;
  ranked: TrialRow[];
}

/**
 * `dlt sweep`: run every trial of a sweep file not yet recorded, record each outcome as
 * it comes (results.jsonl, leaderboard.csv), and print the leaderboard. The sweep file
 * and every trial's config are validated before anything is created. The coordinator
 * owns its sweep directory (sweep.lock) while it runs; the trials own their run
 * directories. A stop request lets running trials snapshot, then ends with exit 130;
 * `--resume` takes up the rest. Ends with exit 1 when a trial failed.
 */
export async function runSweep(file: string, options: SweepOptions): Promise<SweepResult> {
  const sweep = loadSweep(file);
  const dir = options.resumeDir === undefined ? SweepDirectory.create(options.outDir, sweep) : reopen(options.resumeDir, sweep);
  const lock = RunLock.acquire(dir.lockFile, 'sweep');
  try {
    options.progress.sweepDir(dir.root, sweep);
    const keys = Object.keys(sweep.spec.parameters);
    const { metric } = sweep.spec;
    const outcomes = readResults(dir.resultsFile, true);
    const rows = () =>
      rank(
        sweep.trials.map((t) => (outcomes.has(t.id) ? rowFromOutcome(outcomes.get(t.id)!) : queuedRow(t.id, t.params))),
        metric,
      );
    const record = (outcome: TrialOutcome) => {
      if (outcomes.has(outcome.id)) return; // each trial is counted once, whatever an engine reports
      outcomes.set(outcome.id, outcome);
      appendResult(dir.resultsFile, outcome);
      writeLeaderboard(dir.leaderboardFile, rows(), metric, keys);
    };
    writeLeaderboard(dir.leaderboardFile, rows(), metric, keys);

    if (options.createOnly) {
      const ranked = rows();
      options.progress.done(leaderboardTable(ranked, metric, keys));
      return { dir, ranked };
    }
    const jobs = sweep.trials.filter((t) => !outcomes.has(t.id)).map((t) => trialJob(dir, sweep, t));
    const engine = options.engine(dir, sweep);
    let stopped = false;
    options.onStopRequest(() => {
      stopped = true;
      options.progress.stopping();
      engine.stop();
    });
    await engine.run(jobs, {
      started: (id) => options.progress.started(id),
      epoch: (id, message) => options.progress.epoch(id, message),
      ended: (outcome) => {
        record(outcome);
        options.progress.ended(outcome);
      },
      interrupted: (id) => options.progress.interrupted(id),
    });
    const ranked = rows();
    options.progress.done(leaderboardTable(ranked, metric, keys));
    const unfinished = ranked.filter((r) => r.status !== 'finished' && r.status !== 'failed');
    if (stopped || unfinished.length > 0) {
      throw new Interrupted(
        `sweep stopped with ${unfinished.length} trial(s) not run to their end; continue it with dlt sweep ${file} --resume ${dir.root}`,
      );
    }
    const failed = ranked.filter((r) => r.status === 'failed');
    if (failed.length > 0) {
      throw new RunError(`${failed.length} of ${ranked.length} trials failed (see results.jsonl for why): ${failed.map((r) => r.id).join(', ')}`);
    }
    return { dir, ranked };
  } finally {
    lock.release();
  }
}

function queuedRow(id: number, params: Record<string, unknown>): TrialRow {
  return { id, status: 'queued', params, metric: null, epoch: null, run_dir: null };
}

/** A trial as an engine hands it on: everything needed to run it, with its run directory. */
export function trialJob(dir: SweepDirectory, sweep: Sweep, trial: SweepTrial): TrialJob {
  return {
    sweep: sweep.spec.name,
    id: trial.id,
    params: trial.params,
    config: toYaml(trial.config),
    run_path: dir.trialRunPath(trial.id),
    metric: sweep.spec.metric,
  };
}

/** The sweep directory to continue, which must hold the very trials the sweep file gives now. */
export function reopen(root: string, sweep: Sweep): SweepDirectory {
  const dir = SweepDirectory.open(root);
  const recorded = dir.readRecord();
  const now = sweepRecord(sweep);
  for (const key of ['method', 'seed', 'metric', 'parameters', 'trial_list'] as const) {
    if (!isDeepStrictEqual(recorded[key], now[key])) {
      throw new InputError(
        `${key} differs from the sweep recorded in ${dir.sweepFile}: --resume continues the same sweep; start a new sweep without --resume to run the changed one`,
        sweep.file,
      );
    }
  }
  return dir;
}
