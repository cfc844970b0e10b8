import { type Command, Option } from '@commander-js/extra-typings';
import { loadSplits, type SplitName } from '../../data/load.js';
import { Preprocessor } from '../../data/preprocessor.js';
import { InputError } from '../../errors.js';
import { buildModel } from '../../model/build.js';
import { loadParams } from '../../snapshot/snapshot.js';
import { selectKernels } from '../../tensor/backend.js';
import { type Evaluation, evaluate } from '../../train/evaluate.js';
import type { CliContext } from '../context.js';
import { backendOption, jsonOption, threadsOption } from '../options.js';
import { readTargetSnapshot } from '../snapshotTarget.js';

export interface EvalResult extends Evaluation {
  split: SplitName;
  snapshot: string;
  /** Class names, class k = classes[k], when the run has them (classNamesOf). */
  classes?: readonly string[];
}

const EVAL_BATCH = 256;

function declare(cli: Command) {
  return cli
    .command('eval')
    .description("evaluate a run's best (else latest) snapshot, or a given snapshot file")
    .argument('<run-dir|snapshot>', 'run directory or .safetensors snapshot')
    .addOption(new Option('--split <name>', 'which split to evaluate').choices(['test', 'val', 'train'] as const).default('test' as const))
    .addOption(jsonOption())
    .addOption(backendOption())
    .addOption(threadsOption());
}
export type EvalOptions = ReturnType<ReturnType<typeof declare>['opts']>;

export function registerEval(cli: Command, ctx: CliContext): void {
  declare(cli).action((target, opts) => {
    const result = evalCommand(target, opts);
    ctx.stdout(`${opts.json ? JSON.stringify(evalJson(result)) : evalTable(result)}\n`);
  });
}

/**
 * `dlt eval <run-dir | snapshot>`: a run directory means its best.safetensors when
 * present, else snapshots/latest.safetensors (SPEC §1).
 */
export function evalCommand(target: string, options: Pick<EvalOptions, 'split' | 'backend' | 'threads'>): EvalResult {
  const { split } = options;
  const snapshot = readTargetSnapshot(target, 'best');
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
      snapshot.file,
    );
  }
  const prep = Preprocessor.fit(config.data.preprocess, splits.train, kernels);
  return {
    split,
    snapshot: snapshot.file,
    ...evaluate(network, loss, prep, chosen, EVAL_BATCH),
    ...(splits.classNames ? { classes: splits.classNames } : {}),
  };
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
  for (const [c, row] of r.confusion.entries()) lines.push(String(c).padStart(5) + row.map((v) => String(v).padStart(width)).join(''));
  return lines.join('\n');
}
