import path from 'node:path';
import { didYouMean } from '../config/didYouMean.js';
import { describeValue } from '../config/explainIssue.js';
import { isRecord } from '../config/keyPath.js';
import { parseConfig, readYamlFile, resolvePaths, validate } from '../config/load.js';
import { locate } from '../config/locate.js';
import type { Config } from '../config/schema.js';
import { type ParsedYaml, parseYamlText } from '../config/yamlDocument.js';
import { InputError } from '../errors.js';
import { MAX_TRIALS, type SweepSpec, sweepSchema } from './sweepSchema.js';
import { expandTrials, gridSize, type Trial, trialName } from './trials.js';

/**
 * Reading a sweep file: validate it like a config (line:col, did-you-mean), load its base
 * config, check that every swept key exists in it, expand the trials, and validate every
 * trial's config, all before anything runs: a bad combination fails at once, exit 2.
 */

/** A sweep ready to run: its spec, the base config, and each trial with its config. */
export interface Sweep {
  spec: SweepSpec;
  /** Absolute path of the sweep file and of its base config. */
  file: string;
  baseFile: string;
  trials: SweepTrial[];
}

export interface SweepTrial extends Trial {
  /** The trial's resolved config (every default filled, data paths absolute). */
  config: Config;
}

export function loadSweep(file: string): Sweep {
  const parsed = parseYamlText(readYamlFile(file, 'sweep', 'configs/sweeps/spiral-lr.yaml'), file, []);
  if (!isRecord(parsed.value)) {
    throw new InputError(`a sweep file is a mapping (name:, base:, parameters:, ...), not ${describeValue(parsed.value)}`, file, { line: 1, col: 1 });
  }
  const spec = validate(sweepSchema, parsed, file);
  const baseFile = path.resolve(path.dirname(path.resolve(file)), spec.base);
  const baseText = readYamlFile(baseFile, 'config', 'configs/spiral.yaml');
  const base = parseConfig(baseText, baseFile);
  for (const key of Object.keys(spec.parameters)) checkPath(key, base, parsed, file, baseFile);

  if (spec.method === 'grid' && gridSize(spec.parameters) > MAX_TRIALS) {
    throw new InputError(
      `the grid has ${gridSize(spec.parameters)} combinations, more than ${MAX_TRIALS}; sweep fewer values, or use method: random with trials`,
      file,
      locate(parsed.doc, parsed.lineCounter, ['parameters'], true),
    );
  }
  const trials = expandTrials(spec).map((trial) => ({
    ...trial,
    config: trialConfig(trial, baseText, baseFile, parsed, file),
  }));
  return { spec, file: path.resolve(file), baseFile, trials };
}

/** `--set` overrides for a trial: its name, then each swept key's value (JSON is YAML). */
export function trialOverrides(trial: Trial): string[] {
  return [`name=${trialName(trial.id)}`, ...Object.entries(trial.params).map(([key, value]) => `${key}=${JSON.stringify(value)}`)];
}

/** The base config with the trial's values, validated like `dlt train --set`. */
function trialConfig(trial: Trial, baseText: string, baseFile: string, parsed: ParsedYaml, file: string): Config {
  try {
    return resolvePaths(parseConfig(baseText, baseFile, trialOverrides(trial)), path.dirname(baseFile));
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    // The loader names an override as `--set key=value`; here it is a swept key.
    const message = err.format().replace(/^--set /gm, '');
    const key = Object.keys(trial.params).find((k) => message.includes(`${k}=`));
    const where = key === undefined ? undefined : locate(parsed.doc, parsed.lineCounter, ['parameters', key], true);
    throw new InputError(
      `${trialName(trial.id)} (${describeParams(trial.params)}) is not a valid config:\n${message}\nchange the values swept so that every combination is valid`,
      file,
      where,
    );
  }
}

/** `optimizer.lr=0.1, model.layers.0.units=32` */
export function describeParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${formatValue(value)}`)
    .join(', ');
}

/** A swept value, briefly: numbers drawn from a range are shown to 4 significant digits. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Number(value.toPrecision(4)));
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A swept key must name something in the base config (defaults filled in): a misspelt
 * key would otherwise be a new key that --set adds, or an error in every trial.
 */
function checkPath(key: string, base: Config, parsed: ParsedYaml, file: string, baseFile: string): void {
  let node: unknown = base;
  const parts = key.split('.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const at = parts.slice(0, i).join('.') || 'the config';
    let missing: string | undefined;
    if (Array.isArray(node)) {
      const index = /^\d+$/.test(part) ? Number(part) : Number.NaN;
      if (!(index < node.length)) missing = `${at} is a list of ${node.length}; use an index from 0 to ${node.length - 1}`;
      else node = node[index];
    } else if (isRecord(node)) {
      if (!(part in node)) {
        const hint = didYouMean(part, Object.keys(node));
        missing = `${at} has no key "${part}"${hint ? `; did you mean "${hint}"?` : `; its keys are ${Object.keys(node).join(', ')}`}`;
      } else node = node[part];
    } else {
      missing = `${at} is ${describeValue(node)}, which has no keys`;
    }
    if (missing !== undefined) {
      throw new InputError(
        `parameters: ${key} is not in the base config ${path.relative(process.cwd(), baseFile) || baseFile} (with its defaults): ${missing}`,
        file,
        locate(parsed.doc, parsed.lineCounter, ['parameters', key], true),
      );
    }
  }
}
