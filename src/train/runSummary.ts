import { InputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { VERSION } from '../version.js';
import { runEpochs } from './epochLoop.js';
import { evaluate } from './evaluate.js';
import type { Trainer } from './trainer.js';

/** summary.json (SPEC §4): how the run ended. */
export interface RunSummary {
  name: string;
  run_dir: string;
  epochs: number;
  steps: number;
  train_loss_avg: number;
  val_loss: number | null;
  val_accuracy: number | null;
  best_val_accuracy: number | null;
  test_loss: number | null;
  test_accuracy: number | null;
  final_lr: number;
  wall_seconds: number;
  train_seconds: number;
  samples_per_s: number;
  backend: string;
  threads: number;
  dtype: string;
  dlt_version: string;
  node_version: string;
  /** Whether early stopping ended the run before training.epochs. */
  stopped_early: boolean;
  /** The epoch early stopping found best (the run's parameters are its with restore_best), or null without early stopping. */
  best_epoch: number | null;
  /** Class names, class k = classes[k], when the run has them (data.class_names, or CSV text labels). */
  classes?: readonly string[];
}

/**
 * Train the remaining epochs, then evaluate the test split and write summary.json.
 * `started` is when the command started (performance.now()), for wall_seconds.
 */
export async function trainToEnd(t: Trainer, started: number): Promise<RunSummary> {
  const { parts, progress, reporter, dir } = t;
  const { config } = parts;
  let trained: Awaited<ReturnType<typeof runEpochs>>;
  try {
    trained = await runEpochs(t);
  } finally {
    t.log.close();
  }
  // Nothing left to train: the run was stopped after its final snapshot, before its
  // summary (dlt resume refuses runs that have one). Finish it from the last epoch's record.
  const last = trained ?? t.log.lastEpoch();
  if (!last)
    throw new InputError(
      `the run has completed its ${config.training.epochs} epochs but its log holds no epoch record; the file is damaged`,
      dir.metricsFile,
    );
  const trainSeconds = progress.trainSeconds; // before a restore of the best epoch moves progress back
  t.restoreBestEpoch();
  const { test } = parts.splits;
  const result = test ? evaluate(parts.network, parts.loss, parts.preprocessor, test, config.training.batch_size) : undefined;
  if (result) reporter.info(`test: loss ${result.loss.toFixed(4)}, accuracy ${result.accuracy.toFixed(4)} on ${result.samples} samples`);
  const summary: RunSummary = {
    name: config.name,
    run_dir: dir.root,
    // from the last epoch's record: a run restored to its best epoch stands there now
    epochs: last.epoch,
    steps: last.step,
    train_loss_avg: last.train_loss_avg,
    val_loss: last.val_loss,
    val_accuracy: last.val_accuracy,
    best_val_accuracy: t.checkpointer.bestAccuracy,
    test_loss: result ? result.loss : null,
    test_accuracy: result ? result.accuracy : null,
    final_lr: parts.schedule.lr,
    wall_seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    train_seconds: Number(trainSeconds.toFixed(3)),
    samples_per_s: last.samples_per_s,
    backend: parts.kernels.name,
    threads: parts.kernels.threads,
    dtype: config.training.dtype,
    dlt_version: VERSION,
    node_version: process.version,
    stopped_early: t.stoppedEarly,
    best_epoch: t.earlyStopping ? t.earlyStopping.bestEpoch : null,
    ...(parts.splits.classNames ? { classes: parts.splits.classNames } : {}),
  };
  writeFileAtomic(dir.summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
