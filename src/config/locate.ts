import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter, type Pair, type YAMLMap } from 'yaml';
import type { KeyPath } from './keyPath.js';
import { isMergeKey, mergedMaps } from './mergeKeys.js';

/**
 * 1-based line and column of `at` in the document: of the key itself when `atKey` (an
 * unknown key points at its name), else of the value. When the path does not exist in
 * the text (a default, a bare-string layer), of its nearest ancestor. A path through an
 * alias (`*name`) or a merge key (`<<: *name`) is followed to where its key is written.
 */
export function locate(doc: Document, lc: LineCounter, at: KeyPath, atKey: boolean): { line: number; col: number } | undefined {
  for (let n = at.length; n >= 0; n--) {
    const found = find(doc, at.slice(0, n));
    if (!found) continue;
    const keyRange = found.key?.range;
    if (atKey && n === at.length && keyRange) return lc.linePos(keyRange[0]);
    const range = (isNode(found.value) ? found.value.range : undefined) ?? keyRange;
    if (range) return lc.linePos(range[0]);
  }
  return undefined;
}

/** Where a path is written: its value node, and its key when it is a mapping's. */
interface Found {
  key?: { range?: readonly [number, number, number] | null };
  value: unknown;
}

function find(doc: Document, at: KeyPath): Found | undefined {
  let found: Found = { value: doc.contents };
  for (const k of at) {
    const holder = isAlias(found.value) ? found.value.resolve(doc) : found.value;
    if (isSeq(holder)) {
      const item = holder.items[Number(String(k))];
      if (item === undefined) return undefined;
      found = { value: item };
    } else if (isMap(holder)) {
      const pair = pairOf(doc, holder, String(k), new Set());
      if (!pair) return undefined;
      found = { key: isNode(pair.key) ? pair.key : undefined, value: pair.value };
    } else {
      return undefined;
    }
  }
  return found;
}

/** The pair of `map` that gives `key` its value: the map's own, else the first merged mapping's. */
function pairOf(doc: Document, map: YAMLMap, key: string, seen: Set<YAMLMap>): Pair | undefined {
  if (seen.has(map)) return undefined; // a mapping that merges itself
  seen.add(map);
  const own = map.items.find((p) => isScalar(p.key) && !isMergeKey(p.key) && String(p.key.value) === key);
  if (own) return own;
  for (const pair of map.items) {
    if (!isMergeKey(pair.key)) continue;
    for (const source of mergedMaps(pair.value, (alias) => alias.resolve(doc)) ?? []) {
      const merged = pairOf(doc, source, key, seen);
      if (merged) return merged;
    }
  }
  return undefined;
}
