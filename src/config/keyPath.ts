/**
 * A key path into a config, as zod reports it and `--set` writes it: map keys and list
 * indices from the top, e.g. ['model', 'layers', 1, 'units'] for model.layers.1.units.
 */
export type KeyPath = readonly PropertyKey[];

/** `model.layers.1.units` */
export function dotted(p: KeyPath): string {
  return p.map(String).join('.');
}

/** Whether `p` lies at or under `prefix` (keys compared as text: list index 1 is "1"). */
export function startsWith(p: KeyPath, prefix: KeyPath): boolean {
  return prefix.length <= p.length && prefix.every((k, i) => String(k) === String(p[i]));
}

/** A mapping read from YAML: a plain object whose values are not yet checked. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value under `key` of a list or mapping, else undefined. */
export function childOf(v: unknown, key: PropertyKey): unknown {
  if (Array.isArray(v)) return typeof key === 'number' ? v[key] : undefined;
  return isRecord(v) && typeof key !== 'symbol' ? v[key] : undefined;
}

/** The value at `at` inside `root`, else undefined. */
export function valueAt(root: unknown, at: KeyPath): unknown {
  let v = root;
  for (const k of at) v = childOf(v, k);
  return v;
}
