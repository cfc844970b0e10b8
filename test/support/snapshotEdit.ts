/**
 * Editing a snapshot's header as an attacker or a careless tool would, with or without
 * sealing it again. The checksum is recomputed here from its documented definition
 * (src/snapshot/checksum.ts: SHA-256 over the canonical header without `sha256`, then
 * the data region), independently of dlt's code, so that a test can tell a state the
 * checksum vouches for but the schema refuses from plain damage.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Header = { [key: string]: Json };

/** Replace the file's header by edit(header); `reseal` records the checksum of the result. */
export function editHeader(file: string, edit: (header: Header) => void, reseal: boolean): void {
  const bytes = readFileSync(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Header;
  const data = bytes.subarray(8 + length);
  edit(header);
  const metadata = header.__metadata__ as { [key: string]: Json };
  if (reseal) {
    const { sha256: _, ...rest } = metadata;
    metadata.sha256 = createHash('sha256')
      .update(canonical({ ...header, __metadata__: rest }))
      .update(data)
      .digest('hex');
  }
  const text = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(text.length / 8) * 8; // the data region stays 8-byte aligned
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(padded));
  writeFileSync(file, Buffer.concat([head, text, Buffer.alloc(padded - text.length, ' '), data]));
}

/** Edit the training state inside the header's metadata. */
export function editState(file: string, edit: (state: { [key: string]: Json }) => void, reseal = true): void {
  editHeader(
    file,
    (header) => {
      const metadata = header.__metadata__ as { [key: string]: Json };
      const state = JSON.parse(String(metadata.state)) as { [key: string]: Json };
      edit(state);
      metadata.state = JSON.stringify(state);
    },
    reseal,
  );
}

function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k] ?? null)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
