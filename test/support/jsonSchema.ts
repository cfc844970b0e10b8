/**
 * A small JSON Schema (draft-07) validator for the tests of `dlt schema`: just the
 * keywords the generated schema uses. Any other keyword is an error rather than
 * ignored, so a schema that starts relying on one cannot pass untested.
 */

type Schema = Record<string, unknown>;

/** Keywords that only annotate or hold definitions; they never reject a value. */
const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'default', 'definitions', '$defs']);

const KEYWORDS = new Set([
  ...ANNOTATIONS,
  'type',
  'properties',
  'required',
  'additionalProperties',
  'enum',
  'const',
  'anyOf',
  'oneOf',
  'allOf',
  'items',
  'minItems',
  'maxItems',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'propertyNames',
  '$ref',
]);

/** Problems found, each `path: what`; empty when `value` is valid. */
export function validate(schema: Schema, value: unknown): string[] {
  const errors: string[] = [];
  check(schema, value, '$', schema, errors);
  return errors;
}

function check(schema: Schema, value: unknown, at: string, root: Schema, errors: string[]): void {
  for (const keyword of Object.keys(schema)) {
    if (!KEYWORDS.has(keyword))
      throw new Error(`${at}: the test validator does not know the keyword "${keyword}"; teach it (test/support/jsonSchema.ts)`);
  }
  const fail = (what: string): void => {
    errors.push(`${at}: ${what}`);
  };

  if (typeof schema.$ref === 'string') check(resolve(root, schema.$ref), value, at, root, errors);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => hasType(value, t))) {
      fail(`expected ${types.join(' or ')}, got ${JSON.stringify(value)}`);
      return;
    }
  }
  if ('const' in schema && !sameJson(value, schema.const)) fail(`expected ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => sameJson(value, e))) fail(`expected one of ${JSON.stringify(schema.enum)}`);

  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`${value} < minimum ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`${value} > maximum ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum)
      fail(`${value} ≤ exclusiveMinimum ${schema.exclusiveMinimum}`);
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum)
      fail(`${value} ≥ exclusiveMaximum ${schema.exclusiveMaximum}`);
  }
  if (typeof value === 'string') {
    // JSON Schema counts code points, not UTF-16 units.
    const length = [...value].length;
    if (typeof schema.minLength === 'number' && length < schema.minLength) fail(`shorter than ${schema.minLength}`);
    if (typeof schema.maxLength === 'number' && length > schema.maxLength) fail(`longer than ${schema.maxLength}`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail(`fewer than ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail(`more than ${schema.maxItems} items`);
    if (isObject(schema.items)) {
      for (const [i, item] of value.entries()) check(schema.items as Schema, item, `${at}[${i}]`, root, errors);
    } else if (schema.items !== undefined) throw new Error(`${at}: the test validator only knows "items" as one schema`);
  }
  if (isObject(value)) {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) if (!(key in value)) fail(`missing required key "${key}"`);
    for (const [key, v] of Object.entries(value)) {
      if (isObject(schema.propertyNames)) check(schema.propertyNames, key, `${at}.${key} (the key)`, root, errors);
      if (key in properties) check(properties[key]!, v, `${at}.${key}`, root, errors);
      else if (schema.additionalProperties === false) fail(`unknown key "${key}"`);
      else if (isObject(schema.additionalProperties)) check(schema.additionalProperties, v, `${at}.${key}`, root, errors);
    }
  }

  const branches = (key: 'anyOf' | 'oneOf' | 'allOf') =>
    (schema[key] as Schema[]).map((branch) => {
      const problems: string[] = [];
      check(branch, value, at, root, problems);
      return problems;
    });
  if (Array.isArray(schema.allOf)) for (const problems of branches('allOf')) errors.push(...problems);
  if (Array.isArray(schema.anyOf)) {
    const results = branches('anyOf');
    if (!results.some((r) => r.length === 0)) fail(`matches none of anyOf (${results.map((r) => r.join('; ')).join(' | ')})`);
  }
  if (Array.isArray(schema.oneOf)) {
    const results = branches('oneOf');
    const matching = results.filter((r) => r.length === 0).length;
    if (matching === 0) fail(`matches none of oneOf (${results.map((r) => r.join('; ')).join(' | ')})`);
    if (matching > 1) fail(`matches ${matching} branches of oneOf, not exactly one`);
  }
}

/** A local reference, `#/definitions/<name>` (or any JSON pointer into the root). */
function resolve(root: Schema, ref: string): Schema {
  if (!ref.startsWith('#/')) throw new Error(`the test validator only follows local references, not ${ref}`);
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  if (!isObject(node)) throw new Error(`unresolved reference ${ref}`);
  return node;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return isObject(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      throw new Error(`unknown JSON Schema type "${type}"`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Equality of JSON values (objects by keys, not key order). */
function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return a === b;
}
