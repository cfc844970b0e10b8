import { type Alias, isAlias, isMap, isScalar, isSeq, type YAMLMap } from 'yaml';

/**
 * YAML merge keys (YAML 1.1's `<<`), which configs use to share options between layers:
 *
 *   - <<: &dense {type: dense, init: kaiming}
 *     units: 64
 *   - <<: *dense
 *     units: 10
 *
 * A mapping's own keys win over merged ones; of several merged mappings (`<<: [*a, *b]`)
 * the earlier wins. The YAML library merges (option `merge`); this file lets dlt find
 * where a merged key is written, and check what `<<` is given.
 */

/** Whether a mapping key is `<<` (the library reads it as a Symbol when merging is on). */
export function isMergeKey(key: unknown): boolean {
  if (!isScalar(key)) return false;
  const { value } = key;
  return value === '<<' || (typeof value === 'symbol' && value.description === '<<');
}

/**
 * The mappings a `<<` value merges, in order of precedence: a mapping, an alias of one, or
 * a list of those. Undefined when the value is anything else (which the YAML library
 * would refuse when converting).
 *
 * @param resolve the node an alias stands for.
 */
export function mergedMaps(value: unknown, resolve: (alias: Alias) => unknown): YAMLMap[] | undefined {
  const one = (v: unknown): YAMLMap | undefined => {
    const target = isAlias(v) ? resolve(v) : v;
    return isMap(target) ? target : undefined;
  };
  if (!isSeq(value)) {
    const map = one(value);
    return map && [map];
  }
  const maps = value.items.map(one);
  return maps.every((m) => m !== undefined) ? maps : undefined;
}
