import type { Config } from '../config/schema.js';
import { Preprocessor } from '../data/batcher.js';
import { checkLabels, loadSplits, type Splits } from '../data/load.js';
import { InputError, Interrupted, RunError } from '../errors.js';
import type { Loss } from '../losses/loss.js';
import { buildModel } from '../model/build.js';
import type { Network } from '../model/network.js';
import type { Optimizer } from '../optim/optimizer.js';
import { createOptimizer } from '../optim/registry.js';
import { Regularizer } from '../optim/regularization.js';
import { createSchedule } from '../schedule/registry.js';
import type { Schedule } from '../schedule/schedule.js';
import { decodeSnapshot, encodeSnapshot, loadParams, readSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import type { Kernels } from '../tensor/kernels.js';
import { allocate, type FloatArray } from '../tensor/types.js';
import { formatLr } from '../util/format.js';
import { Rng } from '../util/rng.js';
import { VERSION } from '../version.js';
import { type Evaluation, evaluate } from './evaluate.js';
import type { EpochRecord, MetricsLog } from './metrics.js';
import type { Reporter } from './reporter.js';
import { RollingAverage } from './rollingAverage.js';
import type { SnapshotStore } from './snapshotStore.js';

/** How far from log(C) the first batch's softmax loss may be before we warn: a factor of 2 either way. */
const FIRST_LOSS_TOLERANCE = 2;
/** Milliseconds of uninterrupted computing before the loop lets timers and signals run. */
const YIELD_EVERY_MS = 100;
/** on_nan: rollback gives up after this many rollbacks. */
const MAX_ROLLBACKS = 3;
/** on_nan: rollback multiplies the learning rate by this. */
const ROLLBACK_LR_FACTOR = 0.1;

/**
 * Everything a snapshot must hold, besides tensors, for a resumed run to continue
 * bit for bit where the interrupted one stopped (SPEC §5 `state`).
 */
export interface TrainingState {
  /** Epochs completed. */
  epoch: number;
  /** Batches done in epoch `epoch + 1` (0 at an epoch boundary). */
  batch: number;
  /** Optimiser steps taken. */
  step: number;
  /** Shuffle stream as it was before the current epoch's shuffle, so the order regenerates. */
  shuffle_rng: number[];
  /** Dropout stream, as it is now. */
  dropout_rng: number[];
  /** The rolling window of batch losses, oldest first. */
  rolling_loss: number[];
  schedule: Record<string, unknown>;
  /** Step counts and other scalars of the optimiser. */
  optimizer: Record<string, number>;
  /** Multiplier on the schedule's lr, lowered by on_nan rollbacks. */
  lr_scale: number;
  rollbacks: number;
  best_val_accuracy: number | null;
  /** Length of metrics.jsonl when the snapshot was taken. */
  metrics_bytes: number;
  /** Training seconds so far (wall clock; excluded from exactness). */
  train_seconds: number;
  /** The compute backend that took the steps so far, and its threads (absent in older snapshots). */
  backend?: string;
  threads?: number;
  /** The dlt that wrote the snapshot, for `dlt inspect` (absent in older snapshots). */
  dlt_version?: string;
  /** What on_nan: rollback returns to (absent in older snapshots); see RollbackPoint. */
  last_good?: RollbackPoint;
}

/**
 * The state on_nan: rollback returns to: the snapshot of epoch `epoch` (0: the initial
 * state), as it was written or, after a rollback to it, with the run's rollback count and
 * lr scale, and metrics.jsonl `metrics_bytes` long. A snapshot records it so that a run
 * resumed mid-epoch rolls back where the uninterrupted run would, not to the snapshot it
 * resumed from.
 */
export interface RollbackPoint {
  epoch: number;
  metrics_bytes: number;
}

/** What the CLI sets when a SIGINT/SIGTERM arrives: finish the batch, snapshot, stop. */
export interface StopSignal {
  requested: boolean;
}

export interface RunOptions {
  kernels: Kernels;
  reporter: Reporter;
  stop?: StopSignal;
  /** Test hook (DLT_INTERRUPT_AT_STEP): behave as if a signal arrived after this step. */
  interruptAtStep?: number;
}

export interface RunResult {
  epochs: number;
  steps: number;
  last: EpochRecord;
  bestAccuracy: number | null;
  test: Evaluation | undefined;
  trainSeconds: number;
  finalLr: number;
  samplesPerSecond: number;
}

/**
 * One training run: the model, its optimiser, schedule and data, and the loop that
 * trains them. All of its state is in fields listed by toState(), so that a snapshot
 * taken at any batch boundary restores it exactly.
 */
export class TrainingRun {
  readonly splits: Splits;
  readonly network: Network;
  readonly loss: Loss;
  readonly optimizer: Optimizer;
  private readonly regularizer: Regularizer;
  private readonly schedule: Schedule;
  private readonly prep: Preprocessor;
  private readonly shuffleRng: Rng;
  private readonly dropoutRng: Rng;
  private readonly rolling: RollingAverage;
  private readonly order: Uint32Array;
  private readonly x: FloatArray;
  private readonly y: Int32Array;

  private epoch = 0;
  private batch = 0;
  private step = 0;
  private shuffleAtEpochStart: number[];
  private lrScale = 1;
  private rollbacks = 0;
  private bestAccuracy: number | null = null;
  private trainSeconds = 0;
  /** The last epoch snapshot written (or the initial state), for on_nan: rollback. */
  private lastGood: Uint8Array | undefined;
  /** Which state lastGood is (set also when on_nan is stop, for a resume that changes it). */
  private lastGoodAt: RollbackPoint | undefined;
  /** latest.safetensors is a mid-epoch snapshot past lastGood (this run resumed from it). */
  private latestAhead = false;

  constructor(
    readonly config: Config,
    private readonly options: RunOptions,
    /** A resumed run's class names (from its snapshot): CSV labels map as they did before. */
    classes?: readonly string[],
  ) {
    const { training } = config;
    this.splits = loadSplits(config, undefined, classes);
    const model = buildModel(config, options.kernels);
    this.network = model.network;
    this.loss = model.loss;
    this.dropoutRng = model.noise;
    checkLabels(this.splits, this.network.outputSize, config.data.class_names);
    const params = this.network.namedParams();
    this.optimizer = createOptimizer(config.optimizer, params, options.kernels);
    this.regularizer = new Regularizer(config.regularization, params, options.kernels);
    this.schedule = createSchedule(config.schedule, config.optimizer.lr);
    this.prep = Preprocessor.fit(config.data.preprocess, this.splits.train, options.kernels);
    this.shuffleRng = Rng.derive(config.seed, 'shuffle');
    this.shuffleAtEpochStart = this.shuffleRng.toState();
    this.rolling = new RollingAverage(training.loss_window);
    this.order = new Uint32Array(this.splits.train.indices.length);
    this.x = allocate(training.dtype, training.batch_size * this.network.inputSize);
    this.y = new Int32Array(training.batch_size);
  }

  get lr(): number {
    return this.schedule.lr * this.lrScale;
  }

  /** Where the run stands: `epoch` epochs and `batch` batches of the next one done. */
  get position(): { epoch: number; batch: number; step: number } {
    return { epoch: this.epoch, batch: this.batch, step: this.step };
  }

  toState(metricsBytes: number): TrainingState {
    return {
      epoch: this.epoch,
      batch: this.batch,
      step: this.step,
      shuffle_rng: this.batch > 0 ? this.shuffleAtEpochStart : this.shuffleRng.toState(),
      dropout_rng: this.dropoutRng.toState(),
      rolling_loss: this.rolling.toState(),
      schedule: this.schedule.toState(),
      optimizer: this.optimizer.toState(),
      lr_scale: this.lrScale,
      rollbacks: this.rollbacks,
      best_val_accuracy: this.bestAccuracy,
      metrics_bytes: metricsBytes,
      train_seconds: this.trainSeconds,
      backend: this.options.kernels.name,
      threads: this.options.kernels.threads,
      dlt_version: VERSION,
      ...(this.lastGoodAt ? { last_good: { ...this.lastGoodAt } } : {}),
    };
  }

  /** Load parameters, optimiser slots and training state from a snapshot of this run. */
  restore(snapshot: Snapshot): TrainingState {
    loadParams(this.network, snapshot);
    for (const [slot, buffers] of this.optimizer.slots()) {
      for (const [key, buffer] of buffers) {
        const name = `optim/${key}/${slot}`;
        const t = snapshot.tensors.get(name);
        if (!t || t.data.length !== buffer.length || t.dtype !== (buffer instanceof Float32Array ? 'F32' : 'F64')) {
          throw new InputError(
            `the snapshot has no usable ${name} for the ${this.optimizer.type} optimiser; it was written with another optimiser or is damaged — keep the run's optimizer, or start a new run`,
            snapshot.file,
          );
        }
        buffer.set(t.data as FloatArray);
      }
    }
    const s = snapshot.state as unknown as TrainingState;
    const ints = ['epoch', 'batch', 'step', 'rollbacks', 'metrics_bytes'] as const;
    if (ints.some((k) => !Number.isInteger(s[k]) || s[k] < 0) || !Array.isArray(s.rolling_loss) || typeof s.lr_scale !== 'number') {
      throw new InputError(
        'the snapshot lacks the training state needed to resume (epoch, batch, step, ...); the file is damaged or too old',
        snapshot.file,
      );
    }
    this.optimizer.fromState(s.optimizer ?? {});
    this.schedule.fromState(s.schedule);
    this.shuffleRng.setState(s.shuffle_rng);
    this.dropoutRng.setState(s.dropout_rng);
    this.rolling.fromState(s.rolling_loss);
    this.epoch = s.epoch;
    this.batch = s.batch;
    this.step = s.step;
    this.lrScale = s.lr_scale;
    this.rollbacks = s.rollbacks;
    this.bestAccuracy = s.best_val_accuracy;
    this.trainSeconds = s.train_seconds ?? 0;
    return s;
  }

  /**
   * `dlt resume`: restore `snapshot`, and rebuild the state on_nan: rollback returns to as
   * the uninterrupted run holds it, from the epoch snapshot its last_good names (or from
   * the initial state). When that file is gone or damaged, the run rolls back to the
   * snapshot it resumed from instead, with a warning.
   */
  resumeFrom(snapshot: Snapshot, store: SnapshotStore): TrainingState {
    const s = snapshot.state as unknown as TrainingState;
    const at = validRollbackPoint(s.last_good, s);
    if (at && this.config.training.on_nan === 'rollback') {
      const base = at.epoch === 0 ? 'initial' : at.epoch === s.epoch && s.batch === 0 ? snapshot : this.epochSnapshot(store.epochPath(at.epoch));
      if (base) {
        this.latestAhead = base !== snapshot;
        // (freshly built, this run holds the initial state)
        if (base !== 'initial') this.restore(base);
        this.rollbacks = s.rollbacks;
        this.lrScale = s.lr_scale;
        this.lastGood = this.snapshotBytes(at.metrics_bytes);
      }
    }
    const state = this.restore(snapshot);
    if (at) this.lastGoodAt = at;
    return state;
  }

  private epochSnapshot(file: string): Snapshot | undefined {
    try {
      return readSnapshot(file);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      this.options.reporter.warn(
        `on_nan: rollback would return to ${file}, which is unusable (${err.message}); a NaN will roll back to the snapshot resumed from instead`,
      );
      return undefined;
    }
  }

  snapshotBytes(metricsBytes: number): Uint8Array {
    return encodeSnapshot(this.config, this.network, this.optimizer, this.toState(metricsBytes) as unknown as Snapshot['state'], this.splits.classes);
  }

  /** Train until `training.epochs` epochs are complete. */
  async train(metrics: MetricsLog, store: SnapshotStore): Promise<RunResult> {
    const { training } = this.config;
    const { reporter } = this.options;
    const trainCount = this.splits.train.indices.length;
    const batchSize = training.batch_size;
    const stepsPerEpoch = Math.ceil(trainCount / batchSize);
    let last: EpochRecord | undefined;
    // A fresh run, or one resumed from a snapshot that names no rollback point: the
    // state now.
    this.lastGoodAt ??= { epoch: this.epoch, metrics_bytes: metrics.bytes };
    if (training.on_nan === 'rollback') this.lastGood ??= this.snapshotBytes(metrics.bytes);
    // Counted across epochs: with epochs shorter than YIELD_EVERY_MS, a per-epoch clock
    // would never yield, and a signal would wait for the end of training.
    let lastYield = performance.now();

    while (this.epoch < training.epochs) {
      const epoch = this.epoch + 1;
      // Reshuffle every epoch (tutorial: "shuffle data, partition into batches"). A run
      // resumed mid-epoch restores the stream from before the shuffle and redoes it.
      this.shuffleAtEpochStart = this.shuffleRng.toState();
      for (let i = 0; i < trainCount; i++) this.order[i] = i;
      if (training.shuffle) this.shuffleRng.shuffle(this.order);
      reporter.epochStart(epoch, training.epochs, stepsPerEpoch);
      const epochStart = performance.now();
      const firstBatch = this.batch;
      let diverged = false;
      while (this.batch < stepsPerEpoch) {
        const start = this.batch * batchSize;
        const n = Math.min(batchSize, trainCount - start); // the last batch may be partial
        const value = this.trainBatch(start, n);
        if (!Number.isFinite(value)) {
          this.handleNan(value, metrics, store);
          diverged = true;
          break;
        }
        const avg = this.rolling.push(value);
        this.step++;
        this.batch++;
        if (this.step % training.log_every === 0) metrics.append({ kind: 'step', epoch, step: this.step, loss: value, loss_avg: avg, lr: this.lr });
        const now = performance.now();
        reporter.progress(this.batch, avg, this.lr, ((start + n - firstBatch * batchSize) / (now - epochStart)) * 1000);
        if (this.options.interruptAtStep === this.step && this.options.stop) this.options.stop.requested = true;
        if (now - lastYield > YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
        if (this.options.stop?.requested) this.interrupt(metrics, store, (performance.now() - epochStart) / 1000);
      }
      if (diverged) continue;
      const seconds = (performance.now() - epochStart) / 1000;
      this.trainSeconds += seconds;
      // Samples this process trained in this epoch: none when it resumed after the
      // epoch's last batch (firstBatch · batchSize may exceed trainCount, the last
      // batch being partial).
      const samples = Math.max(0, trainCount - firstBatch * batchSize);
      last = this.endEpoch(epoch, seconds, seconds > 0 ? samples / seconds : 0, metrics, store);
    }
    // Nothing left to train: the run was stopped after its final snapshot, before its
    // summary (dlt resume refuses runs that have one). Finish it from the last epoch's record.
    last ??= metrics.lastEpoch();
    if (!last)
      throw new InputError(
        `the run has completed its ${training.epochs} epochs but its metrics.jsonl holds no epoch record; the file is damaged`,
        metrics.file,
      );
    const test = this.splits.test ? evaluate(this.network, this.loss, this.prep, this.splits.test, batchSize) : undefined;
    return {
      epochs: this.epoch,
      steps: this.step,
      last,
      bestAccuracy: this.bestAccuracy,
      test,
      trainSeconds: this.trainSeconds,
      finalLr: this.lr,
      samplesPerSecond: last.samples_per_s,
    };
  }

  /** One optimiser step on samples order[start .. start+n); returns the batch's mean loss. */
  private trainBatch(start: number, n: number): number {
    this.prep.fill(this.splits.train, this.order, start, n, this.x, this.y);
    this.network.zeroGrads();
    const value = this.loss.forward(this.network.forward(this.x, n, true), this.y, n);
    if (!Number.isFinite(value)) return value;
    if (this.step === 0) this.checkFirstLoss(value);
    this.network.backward(this.loss.backward(), n);
    if (this.regularizer.active) this.regularizer.addGradients();
    this.optimizer.step(this.lr);
    return value;
  }

  private endEpoch(epoch: number, seconds: number, samplesPerSecond: number, metrics: MetricsLog, store: SnapshotStore): EpochRecord {
    const { training } = this.config;
    let val: Evaluation | undefined;
    if (this.splits.val && (epoch % training.eval_every === 0 || epoch === training.epochs)) {
      val = evaluate(this.network, this.loss, this.prep, this.splits.val, training.batch_size);
    }
    const record: EpochRecord = {
      kind: 'epoch',
      epoch,
      step: this.step,
      train_loss_avg: this.rolling.mean(),
      val_loss: val ? val.loss : null,
      val_accuracy: val ? val.accuracy : null,
      lr: this.lr,
      ...(this.regularizer.active ? { penalty: this.regularizer.penalty() } : {}),
      samples_per_s: Math.round(samplesPerSecond),
      seconds: Number(seconds.toFixed(3)),
    };
    metrics.append(record);
    this.options.reporter.epochEnd(record, training.epochs);
    const before = this.lr;
    const change = this.schedule.epochEnd(epoch, record);
    if (change) {
      metrics.append({ kind: 'lr_drop', epoch, from: before, to: this.lr, reason: change.reason });
      this.options.reporter.info(`lr ${formatLr(before)} → ${formatLr(this.lr)} (${change.reason})`);
    }
    this.epoch = epoch;
    this.batch = 0;

    const isBest = val !== undefined && (this.bestAccuracy === null || val.accuracy > this.bestAccuracy);
    if (isBest) this.bestAccuracy = val!.accuracy;
    const onSchedule = epoch % training.snapshot_every === 0 || epoch === training.epochs;
    if (onSchedule) this.lastGoodAt = { epoch, metrics_bytes: metrics.bytes };
    if (onSchedule || isBest) {
      const bytes = this.snapshotBytes(metrics.bytes);
      // best before latest: a crash between the two then resumes from the previous
      // latest and redoes this epoch, rewriting best. The other order would resume
      // from this epoch's latest, which already counts this epoch as the best, and
      // best.safetensors would keep an older epoch for good.
      if (isBest) store.saveBest(bytes);
      if (onSchedule) {
        store.saveEpoch(epoch, bytes);
        this.lastGood = bytes;
        this.latestAhead = false;
      }
    }
    return record;
  }

  /** A signal arrived: the batch is done; write latest, then stop with exit 130. */
  private interrupt(metrics: MetricsLog, store: SnapshotStore, seconds: number): never {
    this.trainSeconds += seconds;
    store.saveLatest(this.snapshotBytes(metrics.bytes));
    const { epoch, batch, step } = this.position;
    throw new Interrupted(
      `interrupted after step ${step} (epoch ${epoch + 1}, batch ${batch}); snapshot written to ${store.latestPath}\n` +
        `resume with: dlt resume ${store.runDir}`,
    );
  }

  /**
   * The loss is NaN or infinite. on_nan: stop ends the run (exit 1). on_nan: rollback
   * restores the last good snapshot, multiplies the learning rate by 0.1 and goes on,
   * up to MAX_ROLLBACKS times.
   */
  private handleNan(value: number, metrics: MetricsLog, store: SnapshotStore): void {
    const { training } = this.config;
    const epoch = this.epoch + 1;
    const record = { kind: 'nan' as const, epoch, step: this.step + 1, loss: Number.isNaN(value) ? null : value, lr: this.lr };
    if (training.on_nan === 'stop' || this.rollbacks >= MAX_ROLLBACKS || !this.lastGood) {
      metrics.append({ ...record, action: 'stop' });
      const why = training.on_nan === 'rollback' ? ` after ${this.rollbacks} rollbacks` : '';
      throw new RunError(
        `the training loss became ${value} at epoch ${epoch}, step ${this.step + 1}${why}: the learning rate ${this.lr} is probably too high; ` +
          // a tenth of the lr that diverged: after rollbacks (or schedule drops) that is
          // below the configured lr, and suggesting more than what failed would not help
          `try --set optimizer.lr=${Number((this.lr / 10).toPrecision(2))} (the last good snapshot is in ${store.runDir})`,
      );
    }
    const snapshot = decodeSnapshot(this.lastGood, store.latestPath);
    const rollbacks = this.rollbacks + 1;
    const scale = this.lrScale * ROLLBACK_LR_FACTOR;
    const state = this.restore(snapshot);
    metrics.truncate(state.metrics_bytes);
    if (this.latestAhead) store.restoreLatest(this.epoch);
    this.latestAhead = false;
    this.rollbacks = rollbacks;
    this.lrScale = scale;
    metrics.append({ ...record, action: 'rollback' });
    this.options.reporter.warn(
      `the loss became ${value} at step ${record.step}; rolled back to step ${this.step} (rollback ${rollbacks} of ${MAX_ROLLBACKS}), lr now ${formatLr(this.lr)}`,
    );
    this.lastGoodAt = { epoch: this.epoch, metrics_bytes: metrics.bytes };
    this.lastGood = this.snapshotBytes(metrics.bytes);
  }

  /**
   * Tutorial: "do a sanity check for loss values". With small random weights the scores
   * are near zero, every class gets p ≈ 1/C, and the loss is ≈ log C. Far from it, the
   * initialisation or the input scaling is probably off.
   */
  private checkFirstLoss(value: number): void {
    const classes = this.network.outputSize;
    if (this.config.loss.type !== 'softmax_cross_entropy' || classes < 2) return;
    const expected = Math.log(classes);
    if (value > expected * FIRST_LOSS_TOLERANCE || value < expected / FIRST_LOSS_TOLERANCE) {
      this.options.reporter.warn(
        `the first batch's loss is ${value.toFixed(3)}, far from log(${classes}) = ${expected.toFixed(3)} that small random weights give; ` +
          `check the input scaling (data.preprocess) and the initialisation of the last layer`,
      );
    }
  }
}

/** A snapshot's last_good when it is well-formed and not ahead of the snapshot itself. */
function validRollbackPoint(at: unknown, s: TrainingState): RollbackPoint | undefined {
  if (typeof at !== 'object' || at === null) return undefined;
  const { epoch, metrics_bytes: bytes } = at as Record<string, unknown>;
  const within = (v: unknown, max: number): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= max;
  return within(epoch, s.epoch) && within(bytes, s.metrics_bytes) ? { epoch, metrics_bytes: bytes } : undefined;
}
