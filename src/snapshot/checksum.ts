import { createHash } from 'node:crypto';
import type { SafetensorsLayout } from './safetensors.js';

/** The metadata key of a snapshot's checksum. */
export const CHECKSUM_KEY = 'sha256';

/**
 * The checksum a dlt snapshot of version 2 records under `sha256`: SHA-256 over the
 * header as canonical JSON, then the data region. The canonical header is the header
 * object without the `sha256` entry itself, every object's keys sorted, no whitespace:
 *
 *   {"__metadata__":{"classes":…,"config":…,"format":…,"state":…,"version":"2"},
 *    "optim/dense_1/bias/velocity":{"data_offsets":[b,e],"dtype":"F32","shape":[n]}, …}
 *
 * so it vouches for everything a reader acts on: the config and training state, every
 * tensor's name, dtype, shape and place, and every tensor byte. Padding and key order
 * in the file do not matter. In Python:
 *
 *   header = json.loads(raw[8:8 + n]); recorded = header["__metadata__"].pop("sha256")
 *   canonical = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
 *   hashlib.sha256(canonical.encode() + raw[8 + n:]).hexdigest() == recorded
 */
export function snapshotDigest(metadata: ReadonlyMap<string, string>, { entries, data }: SafetensorsLayout): string {
  const meta = [...metadata].filter(([key]) => key !== CHECKSUM_KEY);
  const members: [string, string][] = [
    ['__metadata__', object(meta.map(([key, value]) => [key, JSON.stringify(value)]))],
    ...entries.map((e): [string, string] => [
      e.name,
      object([
        ['data_offsets', JSON.stringify(e.offsets)],
        ['dtype', JSON.stringify(e.dtype)],
        ['shape', JSON.stringify(e.shape)],
      ]),
    ]),
  ];
  return createHash('sha256').update(object(members)).update(data).digest('hex');
}

/** The checksum of a version-1 snapshot: SHA-256 of the data region alone. */
export function dataDigest(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A JSON object from members already in JSON, keys sorted (by UTF-16 code unit, as Python sorts BMP keys). */
function object(members: readonly (readonly [string, string])[]): string {
  const sorted = [...members].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${sorted.map(([key, json]) => `${JSON.stringify(key)}:${json}`).join(',')}}`;
}
