import { InputError } from '../errors.js';
import { checkParams, dtypeName, encodeSnapshot, loadParams, type Snapshot } from '../snapshot/snapshot.js';
import type { MetricsPosition, TrainingState } from '../snapshot/trainingState.js';
import { Rng } from '../util/rng.js';
import { VERSION } from '../version.js';
import { Checkpointer } from './checkpointer.js';
import { EarlyStopping } from './earlyStopping.js';
import { EpochOrder } from './epochOrder.js';
import type { MetricsLog } from './metricsLog.js';
import { type NanPolicy, nanPolicy } from './nanPolicy.js';
import { Progress } from './progress.js';
import type { Reporter } from './reporter.js';
import { RollingAverage } from './rollingAverage.js';
import type { RunDirectory } from './runDirectory.js';
import { type RunParts, stepsPerEpoch } from './runParts.js';
import type { StopSignal } from './signals.js';
import { type BatchBuffers, batchBuffers } from './trainStep.js';

/**
 * A run in training: its parts (runParts.ts), where it stands (progress, epoch order,
 * rolling loss), and what it writes to (the log, the checkpointer, the reporter). It
 * maps all of that to and from a snapshot's training state; the loop that moves it on
 * is epochLoop.ts, the snapshot policy checkpointer.ts, and what a NaN does nanPolicy.ts.
 */
export class Trainer {
  readonly progress = new Progress();
  readonly order: EpochOrder;
  readonly rolling: RollingAverage;
  readonly checkpointer: Checkpointer;
  readonly onNan: NanPolicy;
  readonly batch: BatchBuffers;
  readonly stepsPerEpoch: number;
  readonly earlyStopping: EarlyStopping | undefined;

  constructor(
    readonly parts: RunParts,
    readonly dir: RunDirectory,
    readonly log: MetricsLog,
    readonly reporter: Reporter,
    readonly stop: StopSignal,
  ) {
    const { training } = parts.config;
    this.order = new EpochOrder(parts.shuffleRng, parts.splits.train.indices.length, training.shuffle);
    this.rolling = new RollingAverage(training.loss_window);
    this.checkpointer = new Checkpointer(dir, training, () => this.snapshotBytes());
    this.onNan = nanPolicy(training.on_nan);
    this.batch = batchBuffers(parts);
    this.stepsPerEpoch = stepsPerEpoch(parts);
    this.earlyStopping = training.early_stopping ? new EarlyStopping(training.early_stopping) : undefined;
  }

  /** Whether early stopping has ended training. */
  get stoppedEarly(): boolean {
    return (this.earlyStopping?.stoppedAt ?? null) !== null;
  }

  /**
   * At the end of training, with early stopping's restore_best, the run returns to its
   * best epoch: parameters, optimiser and the rest of that epoch's state, with early
   * stopping's own state kept (now restored); latest becomes that state. Done once, also
   * when a resumed run finishes what its predecessor trained.
   */
  restoreBestEpoch(): void {
    const stopping = this.earlyStopping;
    if (!stopping?.restorePending(this.progress.epoch >= this.parts.config.training.epochs)) return;
    const final = stopping.toState();
    const best = this.checkpointer.keptSnapshot();
    this.restore(best);
    stopping.fromState({ ...final, restored: true });
    // (the rollback point of that epoch too: latest must not name one past itself)
    this.checkpointer.setRollbackPoint(best.state.last_good ?? { epoch: best.state.epoch, metrics: best.state.metrics }, undefined);
    this.checkpointer.writeLatest();
  }

  /** The training state a snapshot taken now holds; `metrics` when the log is not the one to record. */
  state(metrics: MetricsPosition = this.log.position): TrainingState {
    const { progress, parts, checkpointer } = this;
    return {
      epoch: progress.epoch,
      batch: progress.batch,
      step: progress.step,
      shuffle_rng: this.order.state(progress.batch > 0),
      dropout_rng: parts.dropoutRng.toState(),
      ...(parts.augmenter ? { augment_rng: parts.augmentRng.toState() } : {}),
      rolling_loss: this.rolling.toState(),
      schedule: parts.schedule.toState(),
      optimizer: parts.optimizer.toState(),
      rollbacks: progress.rollbacks,
      best_val_accuracy: checkpointer.bestAccuracy,
      metrics,
      last_good: checkpointer.rollbackPoint,
      train_seconds: progress.trainSeconds,
      backend: parts.kernels.name,
      threads: parts.kernels.threads,
      dlt_version: VERSION,
      ...(this.earlyStopping ? { early_stopping: this.earlyStopping.toState() } : {}),
    };
  }

  /** The snapshot file of the run as it stands. */
  snapshotBytes(metrics?: MetricsPosition): Uint8Array {
    const { config, network, optimizer, splits } = this.parts;
    return encodeSnapshot(config, network, optimizer, this.state(metrics), splits.classes);
  }

  /**
   * Return to a snapshot of this run: parameters, optimiser slots and every piece of
   * state. (The log is cut back by the caller: a resume checks it first, a rollback
   * cuts its own.) A snapshot whose position does not fit this run's data is refused.
   */
  restore(snapshot: Snapshot): void {
    const { state } = snapshot;
    const { parts, progress } = this;
    checkSnapshotFits(parts, snapshot);
    loadParams(parts.network, snapshot);
    for (const [slot, buffers] of parts.optimizer.slots()) {
      for (const [key, buffer] of buffers) buffer.set(snapshot.tensors.get(`optim/${key}/${slot}`)?.data ?? []);
    }
    parts.optimizer.fromState(state.optimizer);
    parts.schedule.fromState(state.schedule);
    this.order.restore(state.shuffle_rng);
    parts.dropoutRng.setState(state.dropout_rng);
    // A snapshot of a run that did not augment yet (data.augment added by dlt resume --set) starts the stream afresh.
    parts.augmentRng.setState(state.augment_rng ?? Rng.derive(parts.config.seed, 'augment').toState());
    this.rolling.fromState(state.rolling_loss);
    progress.epoch = state.epoch;
    progress.batch = state.batch;
    progress.step = state.step;
    progress.rollbacks = state.rollbacks;
    progress.trainSeconds = state.train_seconds;
    this.checkpointer.bestAccuracy = state.best_val_accuracy;
    // (a run that took up early stopping on resume starts counting from here)
    if (this.earlyStopping && state.early_stopping) {
      this.earlyStopping.fromState(state.early_stopping);
      this.checkpointer.keptEpoch = state.early_stopping.best_epoch;
    }
  }
}

/**
 * Refuse a snapshot that does not fit the run built from its config: a parameter or an
 * optimiser slot missing or of another shape, or a position past the end of an epoch of
 * this run's data. Checked before anything is restored or written.
 */
export function checkSnapshotFits(parts: RunParts, snapshot: Snapshot): void {
  const { state, file } = snapshot;
  const steps = stepsPerEpoch(parts);
  if (state.batch > steps) {
    throw new InputError(
      `the snapshot stands at batch ${state.batch} of epoch ${state.epoch + 1}, but an epoch of this run has ${steps} batches; the file is damaged or belongs to other data`,
      file,
    );
  }
  checkParams(parts.network, snapshot);
  const { optimizer } = parts;
  for (const [slot, buffers] of optimizer.slots()) {
    for (const [key, buffer] of buffers) {
      const name = `optim/${key}/${slot}`;
      const t = snapshot.tensors.get(name);
      if (!t || t.data.length !== buffer.length || t.dtype !== dtypeName(buffer)) {
        throw new InputError(
          `the snapshot has no usable ${name} for the ${optimizer.type} optimiser; it was written with another optimiser or is damaged — keep the run's optimizer, or start a new run`,
          file,
        );
      }
    }
  }
}
