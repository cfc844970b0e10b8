/**
 * What a plot says about the run beyond its metrics: a one-line description for the
 * chart's subtitle and a table of facts for the HTML page, from the run's config.yaml
 * and summary.json. Both files are optional here — a run still training has no
 * summary, and a plot is still worth drawing with neither — so each field is read
 * defensively instead of through the config schema.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { RunDirectory } from '../train/runDirectory.js';
import { formatNumber } from './scale.js';

export interface RunInfo {
  /** The chart's second line. */
  subtitle: string;
  /** Label and value pairs for the page. */
  facts: [string, string][];
  /** false when the config has no data.validation; undefined when there is no readable config. */
  hasValidationSplit: boolean | undefined;
  /** Files that exist but could not be read, said once each on stderr. */
  warnings: string[];
}

type Obj = Record<string, unknown>;

export function readRunInfo(dir: RunDirectory, epochsDone: number): RunInfo {
  const warnings: string[] = [];
  const config = readOptional(dir.configFile, (t) => parseYaml(t) as unknown, warnings);
  const summary = readOptional(dir.summaryFile, (t) => JSON.parse(t) as unknown, warnings);

  const c = asObj(config);
  const s = asObj(summary);
  const optimizer = asObj(c.optimizer);
  const schedule = asObj(c.schedule);
  const training = asObj(c.training);
  const data = asObj(c.data);

  const parts: string[] = [];
  const facts: [string, string][] = [];
  const fact = (label: string, value: unknown, short?: string) => {
    if (value === undefined || value === null || value === '') return;
    const shown = typeof value === 'number' ? formatNumber(value) : String(value);
    facts.push([label, shown]);
    if (short !== undefined) parts.push(short.replace('$', shown));
  };

  fact('name', c.name ?? s.name, '$');
  if (optimizer.type !== undefined)
    fact('optimizer', `${String(optimizer.type)}, lr ${typeof optimizer.lr === 'number' ? formatNumber(optimizer.lr) : '?'}`, '$');
  fact('schedule', schedule.type, 'schedule $');
  const planned = typeof training.epochs === 'number' ? training.epochs : undefined;
  fact('epochs', planned !== undefined ? `${epochsDone} of ${planned}` : epochsDone, '$ epochs');
  fact('batch size', training.batch_size, 'batch $');
  fact('validation', data.validation === undefined ? (config === undefined ? undefined : 'none') : describeValidation(data.validation));
  if (summary === undefined) {
    parts.push('no summary.json (still training, or stopped early)');
  } else {
    fact('final training loss (rolling average)', s.train_loss_avg);
    fact('best validation accuracy', accuracy(s.best_val_accuracy));
    if (s.stopped_early === true) fact('stopped early', `best epoch ${String(s.best_epoch)}`, 'stopped early');
    fact('test loss', s.test_loss);
    fact('test accuracy', accuracy(s.test_accuracy), 'test accuracy $');
    fact('wall time (s)', s.wall_seconds);
    fact('backend', s.backend === undefined ? undefined : `${String(s.backend)}, ${String(s.threads ?? '?')} thread(s), ${String(s.dtype ?? '')}`);
    fact('dlt version', s.dlt_version);
  }
  return {
    subtitle: parts.join(' · '),
    facts,
    hasValidationSplit: config === undefined ? undefined : data.validation !== undefined && data.validation !== null,
    warnings,
  };
}

/** Accuracies as eval prints them, to 4 decimals (1 reads as 1.0000, not 1). */
function accuracy(v: unknown): string | undefined {
  return typeof v === 'number' ? v.toFixed(4) : undefined;
}

function describeValidation(v: unknown): string {
  const o = asObj(v);
  if (typeof o.fraction === 'number') return `${formatNumber(o.fraction)} of the training data held out`;
  return 'a dataset of its own';
}

/** The parsed file; undefined when it does not exist or cannot be parsed (with a warning). */
function readOptional(file: string, parse: (text: string) => unknown, warnings: string[]): unknown {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') warnings.push(`${file}: cannot read it (${(err as Error).message}); plotting without it`);
    return undefined;
  }
  try {
    return parse(content);
  } catch (err) {
    warnings.push(`${file}: cannot parse it (${(err as Error).message.split('\n')[0]}); plotting without it`);
    return undefined;
  }
}

function asObj(v: unknown): Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}
