import { type Command, Option } from '@commander-js/extra-typings';
import chalk from 'chalk';
import { loadModelConfig } from '../../config/load.js';
import type { ModelConfig } from '../../config/schema.js';
import { InputError, RunError } from '../../errors.js';
import { CHECK_ALL_UP_TO, type GradcheckReport, gradcheck, type Verdict } from '../../gradcheck/gradcheck.js';
import { buildModel } from '../../model/build.js';
import { Regularizer } from '../../optim/regularization.js';
import { selectKernels } from '../../tensor/backend.js';
import type { CliContext } from '../context.js';
import { jsonOption, positiveNumber, positiveReal, wholeNumber } from '../options.js';

/** Defaults of SPEC §1's `dlt gradcheck` options. */
export const GRADCHECK_DEFAULTS = { batch: 4, delta: 1e-6, samples: 8 } as const;

function declare(cli: Command) {
  return cli
    .command('gradcheck')
    .description("compare the model's analytic gradients with centred differences, in float64")
    .argument('<model-or-config>', 'a full config, or a YAML file with model: (and optionally loss:, regularization:)')
    .option('--batch <n>', 'random samples to check on', positiveNumber, GRADCHECK_DEFAULTS.batch)
    .option('--seed <n>', "seed for the model, data, parameter point and entries (default: the file's seed)", wholeNumber)
    .addOption(new Option('--delta <d>', 'step of the centred differences').argParser(positiveReal).default(GRADCHECK_DEFAULTS.delta, '1e-6'))
    .option(
      '--samples <k>',
      `entries per row checked in tensors over ${CHECK_ALL_UP_TO} entries (0: every entry)`,
      wholeNumber,
      GRADCHECK_DEFAULTS.samples,
    )
    .addOption(jsonOption());
}
/** The options of `dlt gradcheck`; `seed` defaults to the file's (1 when it has none). */
export type GradcheckCommandOptions = Partial<ReturnType<ReturnType<typeof declare>['opts']>>;

export function registerGradcheck(cli: Command, ctx: CliContext): void {
  declare(cli).action((file, opts) => {
    const result = gradcheckCommand(file, opts);
    ctx.stdout(`${opts.json ? JSON.stringify(gradcheckJson(result)) : gradcheckTable(result)}\n`);
    assertPassed(result);
  });
}

export interface GradcheckResult extends GradcheckReport {
  file: string;
  batch: number;
  seed: number;
  delta: number;
  samples: number;
  /** What was checked other than the file says, one sentence each. */
  notes: string[];
}

/**
 * `dlt gradcheck <model-or-config.yaml>`: build the model in float64 from a full config or
 * a model file, and check its gradients (src/gradcheck). The seed builds the model (as
 * the config's `seed`) and draws the data, the parameter point and the entries checked.
 * Returns the report; `assertPassed` turns a failure into a RunError.
 */
export function gradcheckCommand(file: string, options: GradcheckCommandOptions = {}): GradcheckResult {
  const spec = loadModelConfig(file);
  const batch = options.batch ?? GRADCHECK_DEFAULTS.batch;
  const delta = options.delta ?? GRADCHECK_DEFAULTS.delta;
  const samples = options.samples ?? GRADCHECK_DEFAULTS.samples;
  const seed = options.seed ?? spec.seed;
  if (!(Number.isSafeInteger(batch) && batch >= 1)) throw new InputError(`--batch must be a whole number ≥ 1, got ${batch}`);
  if (!(Number.isFinite(delta) && delta > 0)) throw new InputError(`--delta must be a number > 0 (e.g. 1e-6), got ${delta}`);
  if (!(Number.isSafeInteger(samples) && samples >= 0)) throw new InputError(`--samples must be a whole number ≥ 0, got ${samples}`);

  // `balanced` weights come from training labels, which a gradient check does not have.
  const { loss, notes } = withoutBalancedWeights(spec.loss);
  let model: ReturnType<typeof buildModel>;
  try {
    model = buildModel({ ...spec, loss, seed }, selectKernels(), 'float64');
  } catch (err) {
    // Shape errors found while building (e.g. dense on images) name the file too.
    if (err instanceof InputError && !err.file) throw new InputError(err.message, file);
    throw err;
  }
  const regularizer = new Regularizer(spec.regularization, model.network.namedParams());
  const report = gradcheck({ ...model, regularizer }, { batch, seed, delta, samples });
  return { ...report, file, batch, seed, delta, samples, notes };
}

/**
 * `class_weights: balanced` is computed from a run's training split, and a gradient check
 * draws random labels instead: it checks the loss with weight 1 for every class (the
 * unweighted loss), and says so. A list of weights is checked as given.
 */
function withoutBalancedWeights(loss: ModelConfig['loss']): { loss: ModelConfig['loss']; notes: string[] } {
  if (!('class_weights' in loss) || loss.class_weights !== 'balanced') return { loss, notes: [] };
  const { class_weights: _, ...unweighted } = loss;
  return {
    loss: unweighted,
    notes: [
      'loss.class_weights: balanced is computed from the training data, which a gradient check does not read: checked with weight 1 for every class (give the weights as a list to check them)',
    ],
  };
}

/** Exit 1 (SPEC §2) when a tensor is over its threshold. */
export function assertPassed(r: GradcheckReport): void {
  if (r.passed) return;
  const failed = r.tensors.filter((t) => t.verdict !== 'ok');
  throw new RunError(
    `gradient check failed: ${failed.length} of ${r.tensors.length} tensors over their threshold (${failed.map((t) => t.name).join(', ')}); ` +
      'their analytic gradient disagrees with centred differences: check the backward of the layers they feed, or try another --delta',
  );
}

/** The `--json` object of SPEC §1. */
export function gradcheckJson(r: GradcheckReport): object {
  return {
    passed: r.passed,
    tensors: r.tensors.map((t) => ({
      name: t.name,
      entries_checked: t.entriesChecked,
      max_rel_error: t.maxRelError,
      threshold: t.threshold,
      kinks: t.kinks,
      verdict: t.verdict,
    })),
  };
}

/** 1e-6 rather than JavaScript's 0.000001. */
function small(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

const paint: Record<Verdict, (s: string) => string> = {
  ok: (s) => chalk.green(s),
  uncomfortable: (s) => chalk.yellow(s),
  wrong: (s) => chalk.red(s),
};

/** A readable report: one row per tensor, the verdict coloured, then the outcome. */
export function gradcheckTable(r: GradcheckResult): string {
  const header = ['tensor', 'entries', 'max rel error', 'threshold', 'kinks', 'verdict'];
  const rows = r.tensors.map((t) => [
    t.name,
    String(t.entriesChecked),
    Number.isNaN(t.maxRelError) ? 'NaN' : t.maxRelError.toExponential(2),
    t.threshold.toExponential(0),
    String(t.kinks),
    t.verdict,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  // Pad before colouring: escape codes have no width.
  const line = (cells: string[], colour = false) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : c === cells.length - 1 ? cell : cell.padStart(widths[c]!)))
      .map((cell, c) => (colour && c === cells.length - 1 ? paint[cell as Verdict](cell) : cell));
  const sampling = r.samples === 0 ? 'every entry' : `every entry of tensors up to ${CHECK_ALL_UP_TO} entries, else ${r.samples} per row`;
  const lines = [
    `gradcheck ${r.file}: batch ${r.batch}, seed ${r.seed}, delta ${small(r.delta)}, float64, ${sampling}`,
    'parameters at θ_init + N(0, s²), s = max(std(θ_init), 0.1) per tensor; inputs N(0, 1), labels uniform',
    '',
    line(header).join('  '),
    ...rows.map((row) => line(row, true).join('  ')),
    '',
  ];
  if (r.fixedNoise) lines.push('dropout: evaluated in training mode, with the same mask for every evaluation');
  lines.push(...r.notes);
  const kinks = r.tensors.reduce((s, t) => s + t.kinks, 0);
  if (kinks > 0) lines.push(`kinks: ${kinks} entries whose ±delta step crossed a kink are counted and left out of the error`);
  const failed = r.tensors.filter((t) => t.verdict !== 'ok').length;
  lines.push(
    r.passed
      ? chalk.green(`passed: all ${r.tensors.length} tensors within their threshold`)
      : chalk.red(`FAILED: ${failed} of ${r.tensors.length} tensors over their threshold`),
  );
  return lines.join('\n');
}
