import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { Preprocessor } from '../../data/batcher.js';
import { loadSplits, type SplitName } from '../../data/load.js';
import { InputError } from '../../errors.js';
import { buildModel } from '../../model/build.js';
import { loadParams, readSnapshot } from '../../snapshot/snapshot.js';
import { selectKernels } from '../../tensor/backend.js';
import { type Evaluation, evaluate } from '../../train/evaluate.js';

export interface EvalCommandOptions {
  split: string;
  backend?: string;
  threads?: number;
}

export interface EvalResult extends Evaluation {
  split: SplitName;
  snapshot: string;
  /** Class names, class k = classes[k], when the run has them (classNamesOf). */
  classes?: readonly string[];
}

const EVAL_BATCH = 256;

/**
 * `dlt eval <run-dir | snapshot>`: a run directory means its best.safetensors when
 * present, else snapshots/latest.safetensors (SPEC §1).
 */
export function evalCommand(target: string, options: EvalCommandOptions): EvalResult {
  const split = options.split;
  if (split !== 'test' && split !== 'val' && split !== 'train') {
    throw new InputError(`--split must be test, val or train, not "${split}"`);
  }
  const file = snapshotFile(target);
  const snapshot = readSnapshot(file);
  const { config } = snapshot;
  const kernels = selectKernels(options.backend, options.threads);
  const { network, loss } = buildModel(config, kernels);
  loadParams(network, snapshot);
  // Labels are mapped to classes as in training, with the snapshot's mapping.
  const splits = loadSplits(config, new Set(['train', split]), snapshot.classes);
  const chosen = splits[split];
  if (!chosen) {
    const has = (['train', 'val', 'test'] as const).filter((s) => splits[s]);
    throw new InputError(
      `the run's config has no ${split} split (data.${split === 'val' ? 'validation' : split}); choose --split ${has.join(' or ')}`,
      file,
    );
  }
  const prep = Preprocessor.fit(config.data.preprocess, splits.train, kernels);
  return {
    split,
    snapshot: file,
    ...evaluate(network, loss, prep, chosen, EVAL_BATCH),
    ...(splits.classNames ? { classes: splits.classNames } : {}),
  };
}

/** In a run directory, the snapshots `dlt eval` takes, first found first. */
export const EVAL_SNAPSHOTS = ['best.safetensors', path.join('snapshots', 'latest.safetensors')] as const;

/** A snapshot file given as such, or the first of `candidates` present in a run directory. */
export function snapshotFile(target: string, candidates: readonly string[] = EVAL_SNAPSHOTS): string {
  if (!existsSync(target)) throw new InputError('no such run directory or snapshot file', target);
  if (!statSync(target).isDirectory()) return target;
  for (const candidate of candidates) {
    const file = path.join(target, candidate);
    if (existsSync(file)) return file;
  }
  throw new InputError(`not a run directory: it has none of ${candidates.join(', ')}`, target);
}

/** The `--json` object of SPEC §1 (NaN, for a class with no samples, becomes null). */
export function evalJson(r: EvalResult): object {
  return {
    split: r.split,
    samples: r.samples,
    loss: r.loss,
    accuracy: r.accuracy,
    per_class_accuracy: r.perClassAccuracy.map((a) => (Number.isNaN(a) ? null : a)),
    confusion: r.confusion,
    ...(r.classes ? { classes: r.classes } : {}),
  };
}

/** A readable report: totals, per-class accuracy, and the confusion matrix (rows = true class). */
export function evalTable(r: EvalResult): string {
  const lines = [
    `snapshot  ${r.snapshot}`,
    `split     ${r.split} (${r.samples} samples)`,
    `loss      ${r.loss.toFixed(4)}`,
    `accuracy  ${r.accuracy.toFixed(4)}`,
    '',
    'class  accuracy',
    ...r.perClassAccuracy.map(
      (a, c) => `${String(c).padStart(5)}  ${Number.isNaN(a) ? '     -' : a.toFixed(4)}${r.classes?.[c] !== undefined ? `  ${r.classes[c]}` : ''}`,
    ),
    '',
    'confusion (rows: true class, columns: predicted)',
  ];
  const width = Math.max(3, ...r.confusion.flat().map((v) => String(v).length)) + 1;
  lines.push(`     ${r.confusion.map((_, c) => String(c).padStart(width)).join('')}`);
  r.confusion.forEach((row, c) => lines.push(String(c).padStart(5) + row.map((v) => String(v).padStart(width)).join('')));
  return lines.join('\n');
}
