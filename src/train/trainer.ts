import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { stringify as toYaml } from 'yaml';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { InputError } from '../errors.js';
import { readSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { VERSION } from '../version.js';
import { MetricsLog } from './metrics.js';
import type { Reporter } from './reporter.js';
import { type RunOptions, TrainingRun, type TrainingState } from './run.js';
import { createRunDir } from './runDir.js';
import { SnapshotStore } from './snapshotStore.js';

export interface TrainOptions extends RunOptions {
  /** Folder in which the run directory is created. */
  outDir: string;
}

export interface ResumeOptions extends RunOptions {
  /** Train until this many epochs in all (`--epochs`). */
  epochs?: number;
  /** `--set key.path=value` changes to the run's config. */
  overrides: readonly string[];
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
  threads: number;
  dtype: string;
  dlt_version: string;
  node_version: string;
  /** Class names, class k = classes[k], when the training labels were names (CSV). */
  classes?: readonly string[];
}

/**
 * Train a new run. Everything that can be wrong with the input (data files, labels,
 * shapes) is checked before the run directory is created, so bad input leaves nothing.
 */
export async function train(config: Config, options: TrainOptions): Promise<RunSummary> {
  const started = performance.now();
  const run = new TrainingRun(config, options);
  const runDir = createRunDir(options.outDir, config.name);
  options.reporter.runDir(runDir);
  writeFileAtomic(path.join(runDir, 'config.yaml'), toYaml(config));
  describeRun(run, options);
  const store = new SnapshotStore(runDir, config.training.keep_snapshots);
  return finish(run, store, new MetricsLog(path.join(runDir, 'metrics.jsonl')), options, started);
}

/**
 * Continue a run from its newest intact snapshot, in the same run directory. The config
 * comes from the snapshot; `--epochs` and `--set` change it, and the changes are printed.
 */
export async function resume(runDir: string, options: ResumeOptions): Promise<RunSummary> {
  const started = performance.now();
  const { reporter } = options;
  const snapshot = newestIntactSnapshot(runDir, reporter);
  const config = changedConfig(snapshot, options, runDir);
  // A run with its summary is finished; without one, a run whose epochs are all done was
  // stopped between its final snapshot and its summary, and resuming finishes it.
  const trained = snapshot.state.epoch >= config.training.epochs;
  if (trained && existsSync(path.join(runDir, 'summary.json'))) {
    throw new InputError(`the run has already completed its ${config.training.epochs} epochs; use --epochs N to train further`, runDir);
  }
  const run = new TrainingRun(config, options, snapshot.classes);
  const store = new SnapshotStore(runDir, config.training.keep_snapshots);
  const state = run.resumeFrom(snapshot, store);
  reporter.runDir(runDir);
  reporter.info(`resuming from ${snapshot.file}: ${state.epoch} epochs and ${state.batch} batches done, step ${state.step}`);
  if (trained) reporter.info('every epoch is done but the run has no summary.json: finishing it (test evaluation, summary)');
  const { name, threads } = options.kernels;
  const before = state.backend === undefined ? undefined : `${state.backend} backend with ${state.threads ?? 1} thread(s)`;
  if (before !== undefined && before !== `${name} backend with ${threads} thread(s)`) {
    reporter.warn(
      `this run was trained on the ${before} and resumes on the ${name} backend with ${threads} thread(s): matrix products may round ` +
        `differently, so the result will not be bit-identical to an uninterrupted run (use --backend ${state.backend} --threads ${state.threads ?? 1} for that)`,
    );
  }
  if (config !== snapshot.config) writeFileAtomic(path.join(runDir, 'config.yaml'), toYaml(config));
  describeRun(run, options);
  const metrics = new MetricsLog(path.join(runDir, 'metrics.jsonl'), state.metrics_bytes);
  store.removeStaleTemps();
  return finish(run, store, metrics, options, started);
}

async function finish(run: TrainingRun, store: SnapshotStore, metrics: MetricsLog, options: RunOptions, started: number): Promise<RunSummary> {
  const { config } = run;
  const { runDir } = store;
  let result;
  try {
    result = await run.train(metrics, store);
  } finally {
    metrics.close();
  }
  const { test } = result;
  if (test) options.reporter.info(`test: loss ${test.loss.toFixed(4)}, accuracy ${test.accuracy.toFixed(4)} on ${test.samples} samples`);
  const summary: RunSummary = {
    name: config.name,
    run_dir: runDir,
    epochs: result.epochs,
    steps: result.steps,
    train_loss_avg: result.last.train_loss_avg,
    val_loss: result.last.val_loss,
    val_accuracy: result.last.val_accuracy,
    best_val_accuracy: result.bestAccuracy,
    test_loss: test ? test.loss : null,
    test_accuracy: test ? test.accuracy : null,
    final_lr: result.finalLr,
    wall_seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    train_seconds: Number(result.trainSeconds.toFixed(3)),
    samples_per_s: result.samplesPerSecond,
    backend: options.kernels.name,
    threads: options.kernels.threads,
    dtype: config.training.dtype,
    dlt_version: VERSION,
    node_version: process.version,
    ...(run.splits.classNames ? { classes: run.splits.classNames } : {}),
  };
  writeFileAtomic(path.join(runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

/** The model summary (layer, output shape, parameters, total) and the data, before the first epoch. */
function describeRun(run: TrainingRun, options: RunOptions): void {
  const layers = run.network.summary();
  const total = layers.reduce((s, l) => s + l.params, 0);
  const rows = [
    ['layer', 'output shape', 'parameters'],
    ...layers.map((l) => [l.name, `[${l.outputShape.join(', ')}]`, l.params.toLocaleString('en-US')]),
    ['total', '', total.toLocaleString('en-US')],
  ];
  const widths = [0, 1].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  const paramWidth = Math.max(...rows.map((r) => r[2]!.length));
  for (const r of rows) options.reporter.info(`  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padStart(paramWidth)}`);
  const { splits } = run;
  options.reporter.info(
    `data: ${splits.train.indices.length} train` +
      (splits.val ? `, ${splits.val.indices.length} validation` : '') +
      (splits.test ? `, ${splits.test.indices.length} test` : '') +
      `; backend ${options.kernels.name} (${options.kernels.threads} thread${options.kernels.threads === 1 ? '' : 's'}), ${run.config.training.dtype}` +
      (options.kernels.note ? ` (${options.kernels.note})` : ''),
  );
}

/**
 * snapshots/latest.safetensors, or, when it does not verify, the newest epoch snapshot
 * that does (with a warning naming the bad file).
 */
function newestIntactSnapshot(runDir: string, reporter: Reporter): Snapshot {
  const folder = path.join(runDir, 'snapshots');
  if (!existsSync(path.join(runDir, 'config.yaml')) || !existsSync(folder)) {
    throw new InputError('not a run directory (it needs config.yaml and snapshots/); give a folder that dlt train created', runDir);
  }
  const candidates = [
    'latest.safetensors',
    ...readdirSync(folder)
      .filter((f) => /^epoch-\d+\.safetensors$/.test(f))
      .sort()
      .reverse(),
  ]
    .map((f) => path.join(folder, f))
    .filter((f) => existsSync(f));
  const problems: string[] = [];
  const runConfig = candidates.length > 0 ? readRunConfig(runDir) : undefined;
  for (const file of candidates) {
    try {
      const snapshot = readSnapshot(file);
      checkBelongsToRun(snapshot, runConfig!);
      if (problems.length > 0) reporter.warn(`${problems.join('; ')}; resuming from ${file} instead`);
      return snapshot;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(`${file} is unusable (${err.message})`);
    }
  }
  throw new InputError(`no intact snapshot to resume from${problems.length ? `: ${problems.join('; ')}` : ' (snapshots/ is empty)'}`, runDir);
}

function readRunConfig(runDir: string): Config {
  const file = path.join(runDir, 'config.yaml');
  return parseConfig(readFileSync(file, 'utf8'), file);
}

/**
 * A snapshot carries its own config, so one copied in from another run would otherwise
 * be resumed as if it were this run's (and rewrite its config.yaml): refuse it when it
 * differs from the run's config.yaml in a key that no resume can change.
 */
function checkBelongsToRun(snapshot: Snapshot, runConfig: Config): void {
  const differences = diff(runConfig, snapshot.config).filter((c) => FIXED.some((k) => c.key === k || c.key.startsWith(`${k}.`)));
  if (differences.length > 0) {
    throw new InputError(
      `it belongs to another run or architecture: ${differences.map((c) => `${c.key} is ${c.to} in the snapshot but ${c.from} in the run's config.yaml`).join('; ')}`,
      snapshot.file,
    );
  }
}

/** Config keys that a resume may not change: the saved tensors or state would not fit them. */
const FIXED = ['seed', 'model', 'loss', 'optimizer.type', 'schedule.type', 'training.dtype', 'data.validation'];

/** The snapshot's config with --epochs and --set applied; refuses changes that cannot apply. */
function changedConfig(snapshot: Snapshot, options: ResumeOptions, runDir: string): Config {
  const overrides = [...options.overrides, ...(options.epochs !== undefined ? [`training.epochs=${options.epochs}`] : [])];
  if (overrides.length === 0) return snapshot.config;
  const config = parseConfig(toYaml(snapshot.config), path.join(runDir, 'config.yaml'), overrides);
  const changes = diff(snapshot.config, config);
  const state = snapshot.state as unknown as TrainingState;
  const refused = changes.filter(
    (c) => FIXED.some((k) => c.key === k || c.key.startsWith(`${k}.`)) || (c.key === 'training.batch_size' && state.batch > 0),
  );
  if (refused.length > 0) {
    throw new InputError(
      `cannot resume with ${refused.map((c) => `${c.key}: ${c.from} → ${c.to}`).join(', ')}: the snapshot's parameters and state ` +
        `belong to the run as it was (the batch size can change only at an epoch boundary); start a new run with dlt train instead`,
      runDir,
    );
  }
  if (config.training.epochs < state.epoch || (config.training.epochs === state.epoch && state.batch > 0)) {
    throw new InputError(`--epochs ${config.training.epochs} is not more than the ${state.epoch} epochs already done`, runDir);
  }
  for (const c of changes) options.reporter.info(`config change: ${c.key}: ${c.from} → ${c.to}`);
  return config;
}

function diff(before: unknown, after: unknown, prefix = ''): { key: string; from: string; to: string }[] {
  // Lists element by element too, so a change reads `model.layers.0.units: 24 → 32`.
  if ((isObject(before) && isObject(after)) || (Array.isArray(before) && Array.isArray(after))) {
    const a = before as Record<string, unknown>;
    const b = after as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    return keys.flatMap((k) => diff(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  const from = JSON.stringify(before);
  const to = JSON.stringify(after);
  return from === to ? [] : [{ key: prefix, from: from ?? 'unset', to: to ?? 'unset' }];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
