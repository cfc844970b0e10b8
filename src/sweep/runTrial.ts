import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseConfig } from '../config/load.js';
import { DltError, Interrupted, InterruptedBeforeStart } from '../errors.js';
import type { Kernels } from '../tensor/kernels.js';
import type { Reporter } from '../train/reporter.js';
import { resume } from '../train/resume.js';
import { RunDirectory } from '../train/runDirectory.js';
import { RunDirectoryInUse } from '../train/runLock.js';
import type { TrainingSignals } from '../train/signals.js';
import { train } from '../train/train.js';
import { withIo } from '../util/ioError.js';
import { bestEpochOfRun, type TrialOutcome } from './trialOutcome.js';

/**
 * One trial, as an engine hands it to whatever runs it (a child process of this machine,
 * or a queue worker anywhere): everything needed, with nothing read from the sweep file.
 */
export const trialJobSchema = z.strictObject({
  sweep: z.string(),
  id: z.number().int().min(1),
  params: z.record(z.string(), z.unknown()),
  /** The trial's resolved config, as YAML. */
  config: z.string(),
  /** The run directory, relative to the runner's --out: `<sweep-dir>/trials/trial-NNNN`. */
  run_path: z.string(),
  metric: z.strictObject({ name: z.enum(['val_accuracy', 'val_loss', 'train_loss_avg']), goal: z.enum(['maximize', 'minimize']) }),
});
export type TrialJob = z.infer<typeof trialJobSchema>;

export interface RunTrialOptions {
  /** The folder run paths are relative to. */
  outDir: string;
  kernels: Kernels;
  reporter: Reporter;
  signals: TrainingSignals;
}

/** How long a runner waits for the previous owner of a trial's run directory to let go. */
const IN_USE_WAIT_MS = 120_000;

/**
 * Run a trial to its end through dlt train's own code, or take it up where it stopped:
 * - no run directory yet: `train` into it;
 * - a run directory with summary.json: it finished; only its outcome is read;
 * - one with a snapshot: `resume` from its newest intact snapshot (bit-identical to an
 *   uninterrupted trial);
 * - one without a snapshot (stopped before its first): set aside as
 *   `trial-NNNN.restart-K`, never deleted, and trained afresh.
 * A trial that fails (exit 1, or bad data: exit 2) is a failed outcome; an interrupted
 * one throws Interrupted (or InterruptedBeforeStart), and stays to be resumed.
 */
export async function runTrial(job: TrialJob, options: RunTrialOptions): Promise<TrialOutcome> {
  const root = path.resolve(options.outDir, job.run_path);
  const outcome = (fields: Pick<TrialOutcome, 'status' | 'metric' | 'epoch' | 'error'>): TrialOutcome => ({
    id: job.id,
    params: job.params,
    run_dir: root,
    ...fields,
  });
  try {
    await untilFree(() => trainOrResume(job, root, options));
  } catch (err) {
    if (err instanceof Interrupted || err instanceof InterruptedBeforeStart || !(err instanceof DltError)) throw err;
    return outcome({ status: 'failed', metric: null, epoch: null, error: err.format() });
  }
  const best = bestEpochOfRun(RunDirectory.at(root).metricsFile, job.metric);
  return outcome({ status: 'finished', metric: best?.metric ?? null, epoch: best?.epoch ?? null });
}

async function trainOrResume(job: TrialJob, root: string, options: RunTrialOptions): Promise<void> {
  const { kernels, reporter, signals } = options;
  if (existsSync(root)) {
    const dir = RunDirectory.at(root);
    if (existsSync(dir.summaryFile)) return;
    if (existsSync(dir.snapshotsDir) && (existsSync(dir.latestFile) || dir.epochFiles().length > 0)) {
      await resume(root, { overrides: [], kernels, reporter, signals });
      return;
    }
    setAside(root);
  }
  withIo('create the folder', path.dirname(root), () => mkdirSync(path.dirname(root), { recursive: true }));
  const config = parseConfig(job.config, `${job.run_path}/config.yaml (from the sweep)`);
  await train(config, { outDir: path.dirname(root), runDir: root, kernels, reporter, signals });
}

/** Rename a trial's folder that holds no snapshot out of the way, to the first free `.restart-K`. */
function setAside(root: string): void {
  for (let k = 1; ; k++) {
    const aside = `${root}.restart-${k}`;
    if (existsSync(aside)) continue;
    withIo('rename', root, () => renameSync(root, aside));
    return;
  }
}

/**
 * Retry while another process still owns the run directory: a worker whose trial was
 * handed on (a stalled queue job) may still be writing its last snapshot.
 */
async function untilFree(run: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + IN_USE_WAIT_MS;
  for (;;) {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof RunDirectoryInUse) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
