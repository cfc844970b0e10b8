import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Config } from '../config/schema.js';
import type { Kernels } from '../tensor/kernels.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { describeRun } from './describeRun.js';
import { MetricsLog } from './metricsLog.js';
import { metricsViews } from './metricsViews.js';
import type { Reporter } from './reporter.js';
import { RunDirectory } from './runDirectory.js';
import { RunLock } from './runLock.js';
import { buildRunParts } from './runParts.js';
import { type RunSummary, trainToEnd } from './runSummary.js';
import { ignoreSignals, type TrainingSignals } from './signals.js';
import { Trainer } from './trainer.js';

export interface TrainOptions {
  /** Folder in which the run directory `<name>-<YYYYMMDD-HHMMSS>` is created. */
  outDir: string;
  /** Instead: the run directory itself, created at exactly this path (a sweep's trials/trial-NNNN). */
  runDir?: string;
  kernels: Kernels;
  reporter: Reporter;
  signals?: TrainingSignals;
}

/**
 * `dlt train`: a new run. Everything that can be wrong with the input (the output
 * folder, data files, labels, shapes) is checked before the run directory is created,
 * so bad input leaves nothing behind; the run directory is locked from its creation.
 */
export async function train(config: Config, options: TrainOptions): Promise<RunSummary> {
  const started = performance.now();
  const { reporter, signals = ignoreSignals } = options;
  const { runDir } = options;
  RunDirectory.checkCreatable(runDir === undefined ? options.outDir : path.dirname(runDir), config.name);
  const parts = buildRunParts(config, options.kernels);
  await signals.beforeFirstWrite();
  const dir = runDir === undefined ? RunDirectory.create(options.outDir, config.name) : RunDirectory.createAt(runDir);
  const lock = RunLock.acquire(dir.lockFile, 'train');
  try {
    reporter.runDir(dir.root);
    writeFileAtomic(dir.configFile, toYaml(parts.config)); // class_weights: balanced resolved
    describeRun(parts, reporter);
    const log = MetricsLog.create(dir.metricsFile, metricsViews(dir, parts.config));
    const trainer = new Trainer(parts, dir, log, reporter, signals.startTraining());
    // The rollback point of a new run is its initial state.
    const initial = config.training.on_nan === 'rollback' ? trainer.snapshotBytes() : undefined;
    trainer.checkpointer.setRollbackPoint({ epoch: 0, metrics: log.position }, initial);
    return await trainToEnd(trainer, started);
  } finally {
    lock.release();
  }
}
