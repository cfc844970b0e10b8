import { z } from 'zod';
import { didYouMean } from './didYouMean.js';
import { childOf, isRecord, type KeyPath, valueAt } from './keyPath.js';

/**
 * A zod issue as the user should read it: the key it concerns and one sentence saying
 * what is wrong and how to fix it (`unknown key "momentun"; did you mean "momentum"?`).
 */

type Issue = z.core.$ZodIssue;

/** zod's own wording, which we replace; a message of ours (from the schema) is kept. */
const zodDefault = /^(Invalid|Too small|Too big|Unrecognized)/;

/** `issue` as a path and a sentence; `schema` is the one `root` was validated against. */
export function explainIssue(issue: Issue, root: unknown, schema: z.ZodType): { path: KeyPath; text: string } {
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
        const options = ('options' in issue ? (issue.options ?? []) : []).map(String);
        const where = issue.path[issue.path.length - 1] === field ? issue.path : [...issue.path, field];
        const holder = valueAt(root, where.slice(0, -1));
        // A bare string (`- relo`) stands for {type: relo}.
        const given = typeof holder === 'string' ? holder : childOf(holder, field);
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
        const inner = explainIssue(best, value, schema);
        return { path: [...issue.path, ...inner.path], text: inner.text };
      }
      return { path: issue.path, text: 'is not any of the allowed forms' };
    }
    case 'invalid_type':
      if (value === undefined) return { path: issue.path, text: `missing; expected ${article(issue.expected)}` };
      return { path: issue.path, text: `expected ${article(issue.expected)}, got ${describeValue(value)}` };
    case 'invalid_value': {
      const options = issue.values.map(String);
      const hint = typeof value === 'string' ? didYouMean(value, options) : undefined;
      return {
        path: issue.path,
        text: `${describeValue(value)} is not allowed${hint ? `; did you mean "${hint}"?` : ';'} Choose one of ${options.join(', ')}.`,
      };
    }
    case 'too_small':
    case 'too_big': {
      if (!zodDefault.test(issue.message)) return { path: issue.path, text: `${issue.message}, got ${describeValue(value)}` };
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const op = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
      const what = issue.origin === 'array' ? 'items' : issue.origin === 'string' ? 'characters' : '';
      if (what) return { path: issue.path, text: `needs ${op} ${String(bound)} ${what}` };
      return { path: issue.path, text: `must be ${op} ${String(bound)}, got ${describeValue(value)}` };
    }
    default:
      // A rule about a whole mapping or list (a cross-field check) names what it is about itself.
      return {
        path: issue.path,
        text: issue.message + (value !== undefined && !(typeof value === 'object' && value !== null) ? `, got ${describeValue(value)}` : ''),
      };
  }
}

/** A value from the config, for messages: `"fast"`, `-0.1`, `a mapping`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list ${JSON.stringify(v).slice(0, 40)}`;
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return v.length > 60 ? `${JSON.stringify(`${v.slice(0, 40)}…`)} (${v.length} characters)` : JSON.stringify(v);
  return String(v);
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

// ---------------------------------------------------------------- the keys a mapping may have

/**
 * The keys allowed at `at`, found by walking the schema alongside the data (the data
 * picks the branch of a union). Undefined where the schema there is not one mapping.
 */
function allowedKeys(at: KeyPath, root: unknown, rootSchema: z.ZodType): string[] | undefined {
  let schema: z.core.$ZodType | undefined = rootSchema;
  let value: unknown = root;
  for (const key of at) {
    schema = shapeOf(schema, value);
    if (schema instanceof z.ZodObject) schema = schema.shape[String(key)];
    else if (schema instanceof z.ZodArray) schema = schema.element;
    else return undefined;
    // A bare string (`- relu`) stands for {type: relu}.
    value = typeof value === 'string' ? { type: value } : childOf(value, key);
  }
  schema = shapeOf(schema, value);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : undefined;
}

/**
 * The schema that decides the shape of `value`: through the wrappers that do not change
 * it (optional, default, preprocess, ...), and into the branch of a union the value is
 * written in.
 */
function shapeOf(schema: z.core.$ZodType | undefined, value: unknown): z.core.$ZodType | undefined {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodPipe) s = s.out;
    else if (s instanceof z.ZodUnion && isRecord(value)) s = branchOf(s, value);
    else return s;
  }
}

/**
 * The form a mapping is written in: by its discriminator, else the form that knows most
 * of its keys (a misspelt key leaves the others to go by).
 */
function branchOf(union: z.ZodUnion, value: Record<string, unknown>): z.core.$ZodType | undefined {
  const objects = union.options.filter((o) => o instanceof z.ZodObject);
  if (union instanceof z.ZodDiscriminatedUnion) {
    const field = union.def.discriminator;
    return objects.find((o) => {
      const tag = o.shape[field];
      return tag instanceof z.ZodLiteral && [...tag.values].some((v) => v === value[field]);
    });
  }
  const known = (o: z.ZodObject) => Object.keys(value).filter((k) => k in o.shape).length;
  return objects.filter((o) => known(o) > 0).sort((a, b) => known(b) - known(a))[0];
}
