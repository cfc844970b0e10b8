import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { didYouMean } from './didYouMean.js';
import { type Config, configSchema, type DatasetSpec, type ModelConfig, modelConfigSchema } from './schema.js';

/**
 * Reading a config: YAML text → document (with source positions) → `--set` overrides
 * → plain data → zod validation → relative paths resolved against the config's folder.
 * Every problem becomes one InputError listing each fault as `file:line:col: key: what
 * is wrong; how to fix it`.
 */

type Path = readonly PropertyKey[];

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

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what =
      code === 'ENOENT'
        ? 'config file not found'
        : code === 'EISDIR'
          ? 'is a folder, not a config file'
          : `cannot read the config (${code ?? String(err)})`;
    throw new InputError(`${what}; give the path of a YAML config such as configs/quickstart.yaml`, file);
  }
}

/** YAML text as a document with source positions, `--set` overrides applied, and as plain data. */
interface ParsedYaml {
  doc: Document;
  lineCounter: LineCounter;
  fromSet: Override[];
  value: unknown;
}

function parseYamlText(text: string, file: string, overrides: readonly string[]): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0] ?? lineCounter.linePos(syntax.pos[0]);
    const first = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new InputError(`YAML syntax error: ${first}; fix the YAML at this position`, file, pos && { line: pos.line, col: pos.col });
  }

  const fromSet = applyOverrides(doc, overrides);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new InputError(`the YAML expands too far (${(err as Error).message}); aliases (*name) may be used at most 100 times in a config`, file);
  }
  return { doc, lineCounter, fromSet, value };
}

function assertMapping(value: unknown, file: string): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`the config must be a mapping of keys (data:, model:, ...), not ${describe(value)}`, file, { line: 1, col: 1 });
  }
}

/** Validate parsed YAML against `schema`, or throw one InputError listing every problem. */
function validate<T>(schema: z.ZodType<T>, parsed: ParsedYaml, file: string): T {
  const { doc, lineCounter, fromSet, value } = parsed;
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;

  const lines = result.error.issues.slice(0, MAX_LISTED).map((issue) => {
    const { path: where, text: what } = explain(issue, value, schema);
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

// ---------------------------------------------------------------- --set overrides

interface Override {
  path: PropertyKey[];
  text: string;
}

/** Apply `key.path=value` overrides to the document; values are YAML scalars or flow collections. */
function applyOverrides(doc: Document, overrides: readonly string[]): Override[] {
  return overrides.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new InputError(`--set ${text}: expected key.path=value, e.g. --set optimizer.lr=0.01`);
    const keys = text.slice(0, eq).split('.');
    if (keys.some((k) => k === '')) throw new InputError(`--set ${text}: empty key in "${text.slice(0, eq)}"; write keys as a.b.c`);
    let value: unknown;
    try {
      value = parseYaml(text.slice(eq + 1));
    } catch (err) {
      throw new InputError(`--set ${text}: the value is not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
    const segments: PropertyKey[] = [];
    let node: unknown = doc.contents;
    for (const key of keys) {
      const segment = isSeq(node) && /^\d+$/.test(key) ? Number(key) : key;
      segments.push(segment);
      node = isMap(node) || isSeq(node) ? node.get(segment, true) : undefined;
    }
    if (doc.contents === null) doc.contents = doc.createNode({});
    try {
      doc.setIn(segments, doc.createNode(value));
    } catch (err) {
      throw new InputError(`--set ${text}: cannot set ${keys.join('.')} (${(err as Error).message}); check that each part of the path exists`);
    }
    return { path: segments, text };
  });
}

// ---------------------------------------------------------------- explaining zod issues

type Issue = z.core.$ZodIssue;

const zodDefault = /^(Invalid|Too small|Too big|Unrecognized)/;

/** `issue` as a path and a sentence; `schema` is the one `root` was validated against. */
function explain(issue: Issue, root: unknown, schema: z.ZodType): { path: Path; text: string } {
  const value = valueAt(root, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0]!;
      const allowed = allowedKeys(issue.path, root, schema);
      const hint = allowed && didYouMean(key, allowed);
      const list = allowed ? ` Allowed keys: ${allowed.join(', ')}.` : '';
      const extra = issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : '';
      return { path: [...issue.path, key], text: `unknown key "${key}"${extra}${hint ? `; did you mean "${hint}"?` : ';'}${list}` };
    }
    case 'invalid_union': {
      if (issue.discriminator) {
        const field = issue.discriminator;
        const options = (issue as { options?: unknown[] }).options?.map(String) ?? [];
        const where = issue.path[issue.path.length - 1] === field ? issue.path : [...issue.path, field];
        const holder = valueAt(root, where.slice(0, -1));
        // A bare string (`- relo`) stands for {type: relo}.
        const given = typeof holder === 'string' ? holder : (holder as Record<string, unknown> | undefined)?.[field];
        if (given === undefined) return { path: where, text: `missing "${field}"; choose one of ${options.join(', ')}` };
        const hint = typeof given === 'string' ? didYouMean(given, options) : undefined;
        return {
          path: where,
          text: `unknown ${field} ${JSON.stringify(given)}${hint ? `; did you mean "${hint}"?` : ';'} Choose one of ${options.join(', ')}.`,
        };
      }
      // A plain union (e.g. validation: {fraction} or a dataset): explain the branch that got furthest.
      const branches = issue.errors.filter((b) => b.length > 0);
      const depth = (b: readonly Issue[]) => Math.max(...b.map((i) => i.path.length));
      branches.sort((a, b) => depth(b) - depth(a) || a.length - b.length);
      const best = branches[0]?.[0];
      if (best) {
        const inner = explain(best, value, schema);
        return { path: [...issue.path, ...inner.path], text: inner.text };
      }
      return { path: issue.path, text: 'is not any of the allowed forms' };
    }
    case 'invalid_type':
      if (value === undefined) return { path: issue.path, text: `missing; expected ${article(issue.expected)}` };
      return { path: issue.path, text: `expected ${article(issue.expected)}, got ${describe(value)}` };
    case 'invalid_value': {
      const options = issue.values.map(String);
      const hint = typeof value === 'string' ? didYouMean(value, options) : undefined;
      return {
        path: issue.path,
        text: `${describe(value)} is not allowed${hint ? `; did you mean "${hint}"?` : ';'} Choose one of ${options.join(', ')}.`,
      };
    }
    case 'too_small':
    case 'too_big': {
      if (!zodDefault.test(issue.message)) return { path: issue.path, text: `${issue.message}, got ${describe(value)}` };
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
      const what = issue.origin === 'array' ? 'items' : issue.origin === 'string' ? 'characters' : '';
      if (what) return { path: issue.path, text: `needs ${op} ${String(bound)} ${what}` };
      return { path: issue.path, text: `must be ${op} ${String(bound)}, got ${describe(value)}` };
    }
    default:
      return { path: issue.path, text: issue.message + (value !== undefined ? `, got ${describe(value)}` : '') };
  }
}

/** The keys allowed at `path`, found by walking the schema alongside the data. */
function allowedKeys(at: Path, root: unknown, rootSchema: z.ZodType): string[] | undefined {
  let schema: unknown = rootSchema;
  let value: unknown = root;
  const walk = (s: unknown): unknown => {
    // Unwrap the wrappers that do not change the shape of the data.
    for (;;) {
      const def = (s as { _zod: { def: Record<string, unknown> } })._zod.def;
      if (def.type === 'optional' || def.type === 'default' || def.type === 'prefault' || def.type === 'nullable') s = def.innerType;
      else if (def.type === 'pipe') s = def.out;
      else if (def.type === 'union' && value && typeof value === 'object') {
        const options = def.options as unknown[];
        const field = def.discriminator as string | undefined;
        const shapeOf = (o: unknown) => (o as { _zod: { def: { shape?: Record<string, unknown> } } })._zod.def.shape;
        // The form the value is written in: by its discriminator, else the form that
        // knows most of its keys (a misspelt key leaves the others to go by).
        const known = (o: unknown) => Object.keys(value as object).filter((k) => k in (shapeOf(o) ?? {})).length;
        const match = field
          ? options.find((o) => shapeOf(o) && literalOf(shapeOf(o)![field]) === (value as Record<string, unknown>)[field])
          : options.filter((o) => shapeOf(o) && known(o) > 0).sort((a, b) => known(b) - known(a))[0];
        if (!match) return undefined;
        s = match;
      } else return s;
    }
  };
  for (const key of at) {
    schema = walk(schema);
    if (!schema) return undefined;
    const def = (schema as { _zod: { def: Record<string, unknown> } })._zod.def;
    if (def.type === 'object') schema = (def.shape as Record<string, unknown>)[String(key)];
    else if (def.type === 'array') schema = def.element;
    else return undefined;
    value = typeof value === 'string' ? { type: value } : (value as Record<PropertyKey, unknown> | undefined)?.[key as string];
  }
  schema = walk(schema);
  const def = (schema as { _zod: { def: Record<string, unknown> } } | undefined)?._zod.def;
  return def?.type === 'object' ? Object.keys(def.shape as object) : undefined;
}

function literalOf(s: unknown): unknown {
  const def = (s as { _zod?: { def: { values?: unknown[] } } })?._zod?.def;
  return def?.values?.[0];
}

// ---------------------------------------------------------------- positions and wording

/**
 * 1-based line and column of `at` in the document: of the key itself when `atKey` (an
 * unknown key points at its name), else of the value. When the path does not exist in
 * the text (a default, a bare-string layer), of its nearest ancestor.
 */
function locate(doc: Document, lc: LineCounter, at: Path, atKey: boolean): { line: number; col: number } | undefined {
  for (let n = at.length; n >= 0; n--) {
    const prefix = at.slice(0, n) as unknown[];
    const parent = n === 0 ? undefined : doc.getIn(prefix.slice(0, -1), true);
    const pair = isMap(parent) ? parent.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === prefix[n - 1]) : undefined;
    const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    if (atKey && n === at.length && keyRange) return lc.linePos(keyRange[0]);
    const node = n === 0 ? doc.contents : doc.getIn(prefix, true);
    const range = (node as { range?: [number, number, number] } | null)?.range ?? keyRange;
    if (range) return lc.linePos(range[0]);
  }
  return undefined;
}

function valueAt(root: unknown, at: Path): unknown {
  let v = root;
  for (const k of at) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k as string];
  }
  return v;
}

function startsWith(p: Path, prefix: Path): boolean {
  return prefix.length <= p.length && prefix.every((k, i) => String(k) === String(p[i]));
}

function dotted(p: Path): string {
  return p.map(String).join('.');
}

function article(type: string): string {
  const words: Record<string, string> = {
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'a mapping (key: value)',
    array: 'a list',
  };
  return words[type] ?? type;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list ${JSON.stringify(v).slice(0, 40)}`;
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}
