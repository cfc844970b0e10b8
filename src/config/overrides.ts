import { type Document, isMap, isSeq, parse as parseYaml } from 'yaml';
import { InputError } from '../errors.js';

/**
 * `--set key.path=value` (SPEC §1): a change to the config document before validation,
 * so an overridden value is checked exactly like one written in the file.
 */

/** One override: the document path it set, and its text, to name it in messages. */
export interface Override {
  path: PropertyKey[];
  text: string;
}

/** Apply `key.path=value` overrides to the document, in order; values are YAML scalars or flow collections. */
export function applyOverrides(doc: Document, overrides: readonly string[]): Override[] {
  return overrides.map((text) => {
    const eq = text.indexOf('=');
    if (eq <= 0) throw new InputError(`--set ${text}: expected key.path=value, e.g. --set optimizer.lr=0.01`);
    const keys = text.slice(0, eq).split('.');
    if (keys.some((k) => k === '')) throw new InputError(`--set ${text}: empty key in "${text.slice(0, eq)}"; write keys as a.b.c`);
    let value: unknown;
    try {
      value = parseYaml(text.slice(eq + 1));
    } catch (err) {
      throw new InputError(`--set ${text}: the value is not valid YAML (${messageOf(err).split('\n')[0]})`);
    }
    const segments = documentPath(doc, keys, text);
    if (doc.contents === null) doc.contents = doc.createNode({});
    try {
      doc.setIn(segments, doc.createNode(value));
    } catch (err) {
      throw new InputError(`--set ${text}: cannot set ${keys.join('.')} (${messageOf(err)}); check that each part of the path exists`);
    }
    return { path: segments, text };
  });
}

/**
 * The document path `keys` names, checked before anything changes. On a list, a key
 * must be an index written in digits, from 0 to the list's length (which appends an
 * item): the YAML library would take "1e9" as index 10⁹ and fill the list up to it.
 * Keys past a node that does not exist yet stay text, so they create mappings.
 */
function documentPath(doc: Document, keys: readonly string[], text: string): PropertyKey[] {
  const segments: PropertyKey[] = [];
  let node: unknown = doc.contents;
  for (const key of keys) {
    let segment: PropertyKey = key;
    if (isSeq(node)) {
      const length = node.items.length;
      const index = /^\d+$/.test(key) ? Number(key) : Number.NaN;
      if (!(index <= length)) {
        const list = segments.length > 0 ? segments.map(String).join('.') : 'the config';
        throw new InputError(
          `--set ${text}: ${list} is a list of ${length} item${length === 1 ? '' : 's'}; use an index from 0 to ${length} (${length} appends)`,
        );
      }
      segment = index;
    }
    segments.push(segment);
    node = isMap(node) || isSeq(node) ? node.get(segment, true) : undefined;
  }
  return segments;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
