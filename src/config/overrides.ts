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

/** Apply `key.path=value` overrides to the document; values are YAML scalars or flow collections. */
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
