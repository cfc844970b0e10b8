import { existsSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { InputError } from '../errors.js';
import type { Kernels } from '../tensor/kernels.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { describeRun } from './describeRun.js';
import { MetricsLog } from './metricsLog.js';
import { metricsViews } from './metricsViews.js';
import type { Reporter } from './reporter.js';
import { resumedConfig } from './resumeConfig.js';
import { newestIntactSnapshot, restoreForResume } from './resumeSnapshot.js';
import { RunDirectory } from './runDirectory.js';
import { RunLock } from './runLock.js';
import { buildRunParts } from './runParts.js';
import { type RunSummary, trainToEnd } from './runSummary.js';
import { ignoreSignals, type TrainingSignals } from './signals.js';
import { checkSnapshotFits, Trainer } from './trainer.js';

export interface ResumeOptions {
  /** Train until this many epochs in all (`--epochs`). */
  epochs?: number;
  /** `--set key.path=value` changes to the run's config. */
  overrides: readonly string[];
  kernels: Kernels;
  reporter: Reporter;
  signals?: TrainingSignals;
}

/**
 * `dlt resume`: continue a run from its newest intact snapshot, in the same run
 * directory, which it locks first. The config comes from the snapshot; `--epochs` and
 * `--set` change it, and the changes are printed. Everything is checked — the snapshot,
 * the config, the data, that the snapshot fits them, that metrics.jsonl is the log the
 * snapshot was taken with — before anything in the run directory is written.
 */
export async function resume(root: string, options: ResumeOptions): Promise<RunSummary> {
  const started = performance.now();
  const { reporter, kernels, signals = ignoreSignals } = options;
  const dir = RunDirectory.open(root);
  const lock = RunLock.acquire(dir.lockFile, 'resume');
  try {
    dir.removeStaleTemps(); // a killed owner's half-written files; the lock says none is ours to spare
    const snapshot = newestIntactSnapshot(dir, reporter);
    const { config, changes } = resumedConfig(snapshot, options.overrides, options.epochs, dir);
    const { state } = snapshot;
    // A run with its summary is finished; without one, a run whose epochs are all done was
    // stopped between its final snapshot and its summary, and resuming finishes it.
    const stoppedAt = state.early_stopping?.stopped_at ?? null;
    const restored = state.early_stopping?.restored ?? false;
    const trained = state.epoch >= config.training.epochs || stoppedAt !== null || restored;
    if ((stoppedAt !== null || restored) && existsSync(dir.summaryFile)) {
      const how =
        stoppedAt !== null
          ? `stopped early at epoch ${stoppedAt}`
          : `ended with epoch ${state.early_stopping?.best_epoch}'s parameters (restore_best)`;
      throw new InputError(
        `the run ${how} (training.early_stopping), so it has nothing left to train; start a new run with dlt train (restore_best: false keeps a run open to --epochs)`,
        dir.root,
      );
    }
    if (trained && existsSync(dir.summaryFile)) {
      throw new InputError(`the run has already completed its ${config.training.epochs} epochs; use --epochs N to train further`, dir.root);
    }
    const parts = buildRunParts(config, kernels, snapshot.classes);
    checkSnapshotFits(parts, snapshot);
    const logAt = MetricsLog.check(dir.metricsFile, state.metrics);
    await signals.beforeFirstWrite();

    reporter.runDir(dir.root);
    reporter.info(`resuming from ${snapshot.file}: ${state.epoch} epochs and ${state.batch} batches done, step ${state.step}`);
    if (trained) {
      const done = stoppedAt !== null ? `the run stopped early at epoch ${stoppedAt}` : 'every epoch is done';
      reporter.info(`${done} but the run has no summary.json: finishing it (test evaluation, summary)`);
    }
    warnOnBackendChange(state.backend, state.threads, kernels, reporter);
    for (const c of changes) reporter.info(`config change: ${c.key}: ${c.from} → ${c.to}`);
    if (changes.length > 0) writeFileAtomic(dir.configFile, toYaml(config));
    describeRun(parts, reporter);
    const log = logAt.open(metricsViews(dir, config));
    if (logAt.dropped > 0) reporter.info(`metrics.jsonl: ${logAt.dropped} record(s) written after the snapshot were dropped`);
    const trainer = new Trainer(parts, dir, log, reporter, signals.startTraining());
    restoreForResume(trainer, snapshot, reporter);
    return await trainToEnd(trainer, started);
  } finally {
    lock.release();
  }
}

/** Matrix products round differently on another backend or thread count: say so. */
function warnOnBackendChange(backend: string | undefined, threads: number | undefined, kernels: Kernels, reporter: Reporter): void {
  if (backend === undefined) return;
  const before = `${backend} backend with ${threads ?? 1} thread(s)`;
  const now = `${kernels.name} backend with ${kernels.threads} thread(s)`;
  if (before === now) return;
  reporter.warn(
    `this run was trained on the ${before} and resumes on the ${now}: matrix products may round ` +
      `differently, so the result will not be bit-identical to an uninterrupted run (use --backend ${backend} --threads ${threads ?? 1} for that)`,
  );
}
