import { type Document, isMap, isNode, isPair, isScalar, LineCounter, type Node, parseDocument, visit } from 'yaml';
import { InputError } from '../errors.js';
import { isMergeKey, mergedMaps } from './mergeKeys.js';
import { applyOverrides, type Override } from './overrides.js';

/** Config text as a document with source positions, `--set` overrides applied, and as plain data. */
export interface ParsedYaml {
  doc: Document;
  lineCounter: LineCounter;
  fromSet: Override[];
  value: unknown;
}

/** Aliases (`*name`, `<<: *name`) a config may use: enough to share options, too few for an alias bomb. */
const MAX_ALIASES = 100;

/**
 * Parse config text, apply `--set` overrides, and convert it to plain data.
 * @throws InputError at the position of a syntax error, a key given twice in one
 *   mapping, or a merge key (`<<`) given something other than mappings.
 */
export function parseYamlText(text: string, file: string, overrides: readonly string[]): ParsedYaml {
  const lineCounter = new LineCounter();
  // uniqueKeys is checked below: the library compares each key with every earlier one,
  // which takes minutes for a mapping of 50,000 keys.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, merge: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0] ?? lineCounter.linePos(syntax.pos[0]);
    const first = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new InputError(`YAML syntax error: ${first}; fix the YAML at this position`, file, pos && { line: pos.line, col: pos.col });
  }
  checkKeys(doc, (node) => (node.range ? lineCounter.linePos(node.range[0]) : undefined), file);

  const fromSet = applyOverrides(doc, overrides);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new InputError(`the YAML expands too far (${why}); aliases (*name) may be used at most ${MAX_ALIASES} times in a config`, file);
  }
  return { doc, lineCounter, fromSet, value };
}

/**
 * Every mapping's keys differ, and every merge key (`<<`) is given a mapping, an alias
 * of one, or a list of those. One pass over the document, in the order it is written,
 * so an alias is resolved to the latest anchor of its name before it, as YAML says.
 */
function checkKeys(doc: Document, position: (node: Node) => { line: number; col: number } | undefined, file: string): void {
  const anchors = new Map<string, unknown>();
  visit(doc, (_, node) => {
    if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
    if (isPair(node) && isMergeKey(node.key)) {
      if (!mergedMaps(node.value, (alias) => anchors.get(alias.source))) {
        const where = isNode(node.value) ? node.value : isNode(node.key) ? node.key : undefined;
        throw new InputError(
          `"<<" merges mappings into this one: give it a mapping, an alias of one (<<: *defaults) or a list of them (<<: [*a, *b])`,
          file,
          where && position(where),
        );
      }
    }
    if (!isMap(node)) return;
    const seen = new Map<unknown, Node>();
    for (const { key } of node.items) {
      if (!isScalar(key) || isMergeKey(key)) continue;
      const first = seen.get(key.value);
      if (first) {
        const line = position(first)?.line;
        throw new InputError(
          `the key ${JSON.stringify(String(key.value))} is given twice in this mapping${line ? ` (first on line ${line})` : ''}; keep one`,
          file,
          position(key),
        );
      }
      seen.set(key.value, key);
    }
  });
}
