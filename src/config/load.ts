import { statSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { readInputFile } from '../util/inputFile.js';
import { errnoCode } from '../util/ioError.js';
import { describeValue, explainIssue } from './explainIssue.js';
import { dotted, startsWith } from './keyPath.js';
import { locate } from './locate.js';
import { type Config, configSchema, type DatasetSpec, type ModelConfig, modelConfigSchema } from './schema.js';
import { type ParsedYaml, parseYamlText } from './yamlDocument.js';

/**
 * Reading a config: YAML text → document (with source positions) → `--set` overrides
 * → plain data → zod validation → relative paths resolved against the config's folder.
 * Every problem becomes one InputError listing each fault as `file:line:col: key: what
 * is wrong; how to fix it`.
 */

/** The most problems listed in one message; the rest are counted. */
const MAX_LISTED = 8;

export function loadConfig(file: string, overrides: readonly string[] = []): Config {
  const config = parseConfig(readConfigText(file), file, overrides);
  return resolvePaths(config, path.dirname(path.resolve(file)));
}

/** Validate config text. `file` names it in messages; relative paths are left as written. */
export function parseConfig(text: string, file: string, overrides: readonly string[] = []): Config {
  const parsed = parseYamlText(text, file, overrides);
  if (parsed.value === null || parsed.value === undefined) {
    throw new InputError('the config is empty; it needs at least `data`, `model` and `optimizer` (see configs/quickstart.yaml)', file);
  }
  assertMapping(parsed.value, file);
  return validate(configSchema, parsed, file);
}

/** Top-level keys only a full (trainable) config has: with any of them, the whole config is validated. */
const FULL_CONFIG_KEYS = ['data', 'optimizer', 'schedule', 'training'];

/**
 * The model and objective of a file for `dlt gradcheck` (SPEC §3): either a full config,
 * validated entirely (recognised by any of `data`, `optimizer`, `schedule`, `training`),
 * or a model file with `model:` and optionally `loss:`, `regularization:`, `seed:` and
 * `name:`, validated alike (line:col, did-you-mean).
 */
export function loadModelConfig(file: string): ModelConfig {
  const parsed = parseYamlText(readConfigText(file), file, []);
  const { value } = parsed;
  const needs =
    'dlt gradcheck needs `model:` (input and layers), optionally with `loss:` and `regularization:`, or a full config such as configs/quickstart.yaml';
  if (value === null || value === undefined) throw new InputError(`the file is empty; ${needs}`, file);
  assertMapping(value, file);
  if (!('model' in value)) throw new InputError(`no \`model:\` in this file; ${needs}`, file);
  if (FULL_CONFIG_KEYS.some((key) => key in value)) {
    const { name, seed, model, loss, regularization } = validate(configSchema, parsed, file);
    return { name, seed, model, loss, regularization };
  }
  return validate(modelConfigSchema, parsed, file);
}

/**
 * A config is a few kilobytes; the YAML parser takes about a second for 512 KiB (README), so
 * a larger file is refused before it is read.
 */
const MAX_CONFIG_BYTES = 512 * 1024;

function readConfigText(file: string): string {
  return readYamlFile(file, 'config', 'configs/quickstart.yaml');
}

/**
 * The text of one of dlt's YAML files (a config, a sweep), refused when missing or larger
 * than such a file may be; `example` is a file the message points to.
 */
export function readYamlFile(file: string, kind: 'config' | 'sweep', example: string): string {
  const fix = `give the path of a YAML ${kind} such as ${example}`;
  try {
    statSync(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new InputError(`${kind} file not found; ${fix}`, file);
  }
  const what = `a YAML ${kind}`;
  return readInputFile(file, { what, maxBytes: MAX_CONFIG_BYTES, tooLargeHint: `a ${kind} is a few kilobytes; ${fix}` }).toString('utf8');
}

function assertMapping(value: unknown, file: string): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`the config must be a mapping of keys (data:, model:, ...), not ${describeValue(value)}`, file, { line: 1, col: 1 });
  }
}

/** Validate parsed YAML against `schema`, or throw one InputError listing every problem. */
export function validate<T>(schema: z.ZodType<T>, parsed: ParsedYaml, file: string): T {
  const { doc, lineCounter, fromSet, value } = parsed;
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;

  const lines = result.error.issues.slice(0, MAX_LISTED).map((issue) => {
    const { path: where, text: what } = explainIssue(issue, value, schema);
    const origin = fromSet.find((o) => startsWith(where, o.path));
    if (origin) return `--set ${origin.text}: ${dotted(where)}: ${what}`;
    const pos = locate(doc, lineCounter, where, issue.code === 'unrecognized_keys');
    return `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: ${dotted(where) || '(top level)'}: ${what}`;
  });
  const more = result.error.issues.length - MAX_LISTED;
  if (more > 0) lines.push(`(and ${more} more)`);
  throw new InputError(lines.join('\n'));
}

/** Make dataset paths absolute, relative to the config's folder (SPEC §3). */
export function resolvePaths(config: Config, dir: string): Config {
  const resolveSpec = <T extends DatasetSpec | { fraction: number } | undefined>(spec: T, split?: 'train' | 'test'): T => {
    if (!spec || !('format' in spec)) return spec; // {fraction}, or a named data set
    if (spec.format === 'idx') return { ...spec, images: path.resolve(dir, spec.images), labels: path.resolve(dir, spec.labels) };
    if (spec.format === 'csv') return { ...spec, path: path.resolve(dir, spec.path) };
    // A CIFAR-10 folder's batches default by role; written out so the resolved config says which ran.
    if (spec.format === 'cifar10')
      return { ...spec, path: path.resolve(dir, spec.path), ...(spec.split || !split || spec.path.endsWith('.bin') ? {} : { split }) };
    return spec;
  };
  return {
    ...config,
    data: {
      ...config.data,
      train: resolveSpec(config.data.train, 'train'),
      test: resolveSpec(config.data.test, 'test'),
      validation: resolveSpec(config.data.validation),
    },
  };
}
