import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Config } from '../config/schema.js';
import { Preprocessor } from '../data/batcher.js';
import { checkLabels, loadSplits } from '../data/load.js';
import { RunError } from '../errors.js';
import { buildModel } from '../model/build.js';
import type { Network } from '../model/network.js';
import { createOptimizer } from '../optim/registry.js';
import { Regularizer } from '../optim/regularization.js';
import { createSchedule } from '../schedule/registry.js';
import { encodeSnapshot } from '../snapshot/snapshot.js';
import type { Kernels } from '../tensor/kernels.js';
import { allocate } from '../tensor/types.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { Rng } from '../util/rng.js';
import { VERSION } from '../version.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { MetricsLog, type EpochRecord } from './metrics.js';
import type { Reporter } from './reporter.js';
import { RollingAverage } from './rollingAverage.js';
import { createRunDir } from './runDir.js';
import { SnapshotStore } from './snapshotStore.js';

export interface TrainOptions {
  /** Folder in which the run directory is created. */
  outDir: string;
  kernels: Kernels;
  reporter: Reporter;
}

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
  dtype: string;
  dlt_version: string;
  node_version: string;
}

/** How far from log(C) the first batch's softmax loss may be before we warn: a factor of 2 either way. */
const FIRST_LOSS_TOLERANCE = 2;

/** Milliseconds of uninterrupted computing before the loop lets timers and signals run. */
const YIELD_EVERY_MS = 100;

/**
 * Train the model a config describes. Everything that can be wrong with the input
 * (data files, labels, shapes) is checked before the run directory is created, so bad
 * input leaves nothing behind.
 */
export async function train(config: Config, options: TrainOptions): Promise<RunSummary> {
  const started = performance.now();
  const { reporter, kernels } = options;
  const { training } = config;
  const splits = loadSplits(config);
  const { network, loss } = buildModel(config, kernels);
  checkLabels(splits, network.outputSize);
  const params = network.namedParams();
  const optimizer = createOptimizer(config.optimizer, params);
  const regularizer = new Regularizer(config.regularization, params);
  const schedule = createSchedule(config.schedule, config.optimizer.lr);
  const prep = Preprocessor.fit(config.data.preprocess, splits.train);

  const runDir = createRunDir(options.outDir, config.name);
  reporter.runDir(runDir);
  writeFileSync(path.join(runDir, 'config.yaml'), toYaml(config));
  const metrics = new MetricsLog(path.join(runDir, 'metrics.jsonl'));
  const store = new SnapshotStore(runDir, training.keep_snapshots);
  describeRun(network, splits, kernels.name, config, reporter);

  const batchSize = training.batch_size;
  const trainCount = splits.train.indices.length;
  const stepsPerEpoch = Math.ceil(trainCount / batchSize);
  const x = allocate(training.dtype, batchSize * network.inputSize);
  const y = new Int32Array(batchSize);
  const order = new Uint32Array(trainCount);
  const shuffleRng = Rng.derive(config.seed, 'shuffle');
  const rolling = new RollingAverage(training.loss_window);
  let step = 0;
  let trainSeconds = 0;
  let last: EpochRecord | undefined;
  let bestAccuracy: number | null = null;

  try {
    for (let epoch = 1; epoch <= training.epochs; epoch++) {
      const lr = schedule.lr;
      for (let i = 0; i < trainCount; i++) order[i] = i;
      // Reshuffle every epoch (tutorial: "shuffle data, partition into batches").
      if (training.shuffle) shuffleRng.shuffle(order);
      reporter.epochStart(epoch, training.epochs, stepsPerEpoch);
      const epochStart = performance.now();
      let lastYield = epochStart;
      for (let b = 0; b < stepsPerEpoch; b++) {
        const start = b * batchSize;
        const n = Math.min(batchSize, trainCount - start); // the last batch may be partial
        prep.fill(splits.train, order, start, n, x, y);
        network.zeroGrads();
        const value = loss.forward(network.forward(x, n, true), y, n);
        if (!Number.isFinite(value)) {
          metrics.append({ kind: 'nan', epoch, step, loss: Number.isNaN(value) ? null : value, lr, action: 'stop' });
          throw new RunError(
            `the training loss became ${value} at epoch ${epoch}, step ${step + 1}: the learning rate ${lr} is probably too high; ` +
              `try --set optimizer.lr=${config.optimizer.lr / 10} (the run so far is in ${runDir})`,
          );
        }
        if (step === 0) checkFirstLoss(value, network.outputSize, config, reporter);
        network.backward(loss.backward(), n);
        if (regularizer.active) regularizer.addGradients();
        optimizer.step(lr);
        step++;
        const avg = rolling.push(value);
        if (step % training.log_every === 0) metrics.append({ kind: 'step', epoch, step, loss: value, loss_avg: avg, lr });
        const now = performance.now();
        reporter.progress(b + 1, avg, lr, ((start + n) / (now - epochStart)) * 1000);
        if (now - lastYield > YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = performance.now();
        }
      }
      const seconds = (performance.now() - epochStart) / 1000;
      trainSeconds += seconds;

      let val: Evaluation | undefined;
      if (splits.val && (epoch % training.eval_every === 0 || epoch === training.epochs)) {
        val = evaluate(network, loss, prep, splits.val, batchSize);
      }
      last = {
        kind: 'epoch',
        epoch,
        step,
        train_loss_avg: rolling.mean(),
        val_loss: val ? val.loss : null,
        val_accuracy: val ? val.accuracy : null,
        lr,
        ...(regularizer.active ? { penalty: regularizer.penalty() } : {}),
        samples_per_s: Math.round(trainCount / seconds),
        seconds: Number(seconds.toFixed(3)),
      };
      metrics.append(last);
      reporter.epochEnd(last, training.epochs);

      const change = schedule.epochEnd(epoch, last);
      if (change) {
        metrics.append({ kind: 'lr_drop', epoch, from: change.from, to: change.to, reason: change.reason });
        reporter.info(`lr ${change.from} → ${change.to} (${change.reason})`);
      }

      const isBest = val !== undefined && (bestAccuracy === null || val.accuracy > bestAccuracy);
      if (isBest) bestAccuracy = val!.accuracy;
      const onSchedule = epoch % training.snapshot_every === 0 || epoch === training.epochs;
      if (onSchedule || isBest) {
        const bytes = encodeSnapshot(config, network, optimizer, { epoch, step, rolling_loss: rolling.toState(), schedule: schedule.toState() });
        if (onSchedule) store.saveEpoch(epoch, bytes);
        if (isBest) store.saveBest(bytes);
      }
    }
  } finally {
    metrics.close();
  }

  const test = splits.test ? evaluate(network, loss, prep, splits.test, batchSize) : undefined;
  if (test) reporter.info(`test: loss ${test.loss.toFixed(4)}, accuracy ${test.accuracy.toFixed(4)} on ${test.samples} samples`);
  const summary: RunSummary = {
    name: config.name,
    run_dir: runDir,
    epochs: training.epochs,
    steps: step,
    train_loss_avg: last!.train_loss_avg,
    val_loss: last!.val_loss,
    val_accuracy: last!.val_accuracy,
    best_val_accuracy: bestAccuracy,
    test_loss: test ? test.loss : null,
    test_accuracy: test ? test.accuracy : null,
    final_lr: schedule.lr,
    wall_seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    train_seconds: Number(trainSeconds.toFixed(3)),
    samples_per_s: Math.round((trainCount * training.epochs) / trainSeconds),
    backend: kernels.name,
    dtype: training.dtype,
    dlt_version: VERSION,
    node_version: process.version,
  };
  writeFileAtomic(path.join(runDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

function describeRun(network: Network, splits: ReturnType<typeof loadSplits>, backend: string, config: Config, reporter: Reporter): void {
  const layers = network.summary();
  const total = layers.reduce((s, l) => s + l.params, 0);
  reporter.info(`model: ${layers.map((l) => `${l.name}[${l.outputShape.join('×')}]`).join(' → ')}; ${total.toLocaleString('en-US')} parameters`);
  reporter.info(
    `data: ${splits.train.indices.length} train` +
      (splits.val ? `, ${splits.val.indices.length} validation` : '') +
      (splits.test ? `, ${splits.test.indices.length} test` : '') +
      `; backend ${backend}, ${config.training.dtype}`,
  );
}

/**
 * Tutorial: "do a sanity check for loss values". With small random weights the scores
 * are near zero, every class gets p ≈ 1/C, and the loss is ≈ log C. Far from it, the
 * initialisation or the input scaling is probably off.
 */
function checkFirstLoss(value: number, classes: number, config: Config, reporter: Reporter): void {
  if (config.loss.type !== 'softmax_cross_entropy' || classes < 2) return;
  const expected = Math.log(classes);
  if (value > expected * FIRST_LOSS_TOLERANCE || value < expected / FIRST_LOSS_TOLERANCE) {
    reporter.warn(
      `the first batch's loss is ${value.toFixed(3)}, far from log(${classes}) = ${expected.toFixed(3)} that small random weights give; ` +
        `check the input scaling (data.preprocess) and the initialisation of the last layer`,
    );
  }
}
