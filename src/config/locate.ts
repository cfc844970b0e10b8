import { type Document, isMap, isPair, isScalar, type LineCounter } from 'yaml';
import type { KeyPath } from './keyPath.js';

/**
 * 1-based line and column of `at` in the document: of the key itself when `atKey` (an
 * unknown key points at its name), else of the value. When the path does not exist in
 * the text (a default, a bare-string layer), of its nearest ancestor.
 */
export function locate(doc: Document, lc: LineCounter, at: KeyPath, atKey: boolean): { line: number; col: number } | undefined {
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
