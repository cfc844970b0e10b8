import { maskedCrc32c } from './crc32c.js';

/**
 * TFRecord framing, the container of TensorBoard's event files. Each record is
 *   uint64 length (little-endian) · uint32 masked CRC-32C of those 8 bytes ·
 *   length bytes of data · uint32 masked CRC-32C of the data.
 */

const HEADER = 12;
const FOOTER = 4;

export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + data.length + FOOTER);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, HEADER);
  view.setUint32(HEADER + data.length, maskedCrc32c(data), true);
  return out;
}

/**
 * The byte offset after each complete record whose checksums hold, from the start; it
 * stops at the first record that is cut short or damaged (a write interrupted by a crash).
 */
export function recordEnds(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ends: number[] = [];
  let at = 0;
  while (at + HEADER <= bytes.length) {
    const length = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== maskedCrc32c(bytes.subarray(at, at + 8))) break;
    const end = at + HEADER + length + FOOTER;
    if (end > bytes.length) break;
    if (view.getUint32(at + HEADER + length, true) !== maskedCrc32c(bytes.subarray(at + HEADER, at + HEADER + length))) break;
    ends.push(end);
    at = end;
  }
  return ends;
}
