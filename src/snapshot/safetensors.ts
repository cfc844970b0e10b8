/**
 * Reading and writing the Hugging Face safetensors format, the container for dlt
 * snapshots (SPEC §5), so that weights load directly with `safetensors.numpy.load_file`.
 *
 * Layout of a file (all integers little-endian):
 *
 *   [ N: u64 ][ header: N bytes of UTF-8 JSON ][ data region: raw tensor bytes ]
 *
 *   header = { "__metadata__": { key: string value, ... },
 *              "<name>": { "dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end] }, ... }
 *
 * Offsets count from the start of the data region; a tensor of shape S and dtype D
 * spans product(S) × itemSize(D) bytes; the tensors tile the data region with no gaps
 * and no overlaps. The writer pads the header with spaces so that 8 + N is a multiple
 * of 8, which keeps every tensor aligned for readers that map the file in place.
 *
 * Everything read from a file is untrusted: decodeSafetensors checks lengths before
 * allocating and the header's structure before using it.
 */
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { readInputFile } from '../util/inputFile.js';

export type TensorDType = 'F32' | 'F64' | 'I32' | 'U8';

export interface NamedTensor {
  name: string;
  dtype: TensorDType;
  /** Dimensions, outermost first; [] is a scalar (one element). */
  shape: number[];
  /** Row-major elements; its length is the product of `shape`. */
  data: Float32Array | Float64Array | Int32Array | Uint8Array;
}

export interface SafetensorsFile {
  /** By name, in the order the header lists them. */
  tensors: Map<string, NamedTensor>;
  /** The `__metadata__` entries, in the order the header lists them. */
  metadata: Map<string, string>;
  /** The header's tensor entries, in the order it lists them. */
  entries: TensorEntry[];
  /** The data region, as the file holds it (a view into the bytes decoded). */
  data: Uint8Array;
}

type TensorData = NamedTensor['data'];

interface DTypeInfo {
  itemSize: number;
  /** Whether `data` is the typed array this dtype is stored in. */
  holds(data: TensorData): boolean;
  /** A typed array over `count` elements of an aligned, host-endian buffer. */
  view(buffer: ArrayBuffer, count: number): TensorData;
}

// A Map, not an object literal: a dtype read from a file ("__proto__", "toString")
// must not find anything on Object.prototype.
const DTYPES = new Map<string, DTypeInfo>([
  ['F32', { itemSize: 4, holds: (d) => d instanceof Float32Array, view: (b, n) => new Float32Array(b, 0, n) }],
  ['F64', { itemSize: 8, holds: (d) => d instanceof Float64Array, view: (b, n) => new Float64Array(b, 0, n) }],
  ['I32', { itemSize: 4, holds: (d) => d instanceof Int32Array, view: (b, n) => new Int32Array(b, 0, n) }],
  ['U8', { itemSize: 1, holds: (d) => d instanceof Uint8Array, view: (b, n) => new Uint8Array(b, 0, n) }],
]);

const METADATA_KEY = '__metadata__';
/** The same ceiling the reference implementation puts on a header. */
const MAX_HEADER_BYTES = 100_000_000;
/** Header plus its length prefix end on this boundary, so tensor data starts aligned. */
const DATA_ALIGNMENT = 8;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const DAMAGED_HINT = 'The file is damaged or is not a safetensors file: resume from an older snapshot in snapshots/.';

/** One tensor's entry in the header: where its bytes lie in the data region. */
export interface TensorEntry {
  name: string;
  dtype: TensorDType;
  shape: number[];
  /** [begin, end) in bytes, counted from the start of the data region. */
  offsets: [number, number];
}

/** The tensors of a file laid out: their header entries, in order, and the data region. */
export interface SafetensorsLayout {
  entries: TensorEntry[];
  data: Uint8Array;
}

/**
 * Lay out `tensors` (in the given order) back to back in a data region, little-endian.
 * Throws a plain Error for programmer errors: duplicate or reserved names, a dtype
 * that does not match the array, a shape that does not match the length.
 */
export function layoutTensors(tensors: readonly NamedTensor[]): SafetensorsLayout {
  const names = new Set<string>();
  const entries: TensorEntry[] = [];
  let dataLength = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY) throw new Error(`safetensors: "${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (names.has(t.name)) throw new Error(`safetensors: duplicate tensor name "${t.name}"`);
    names.add(t.name);
    const info = DTYPES.get(t.dtype);
    if (!info) throw new Error(`safetensors: tensor "${t.name}" has unknown dtype ${String(t.dtype)}`);
    if (!info.holds(t.data)) {
      throw new Error(`safetensors: tensor "${t.name}" is declared ${t.dtype} but holds a ${t.data.constructor.name}`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`safetensors: tensor "${t.name}" has shape [${t.shape.join(', ')}]; dimensions must be integers ≥ 0`);
    }
    const count = t.shape.reduce((a, d) => a * d, 1);
    if (count !== t.data.length) {
      throw new Error(`safetensors: tensor "${t.name}" has shape [${t.shape.join(', ')}] (${count} elements) but ${t.data.length} values`);
    }
    entries.push({ name: t.name, dtype: t.dtype, shape: [...t.shape], offsets: [dataLength, dataLength + t.data.byteLength] });
    dataLength += t.data.byteLength;
  }

  const data = new Uint8Array(dataLength);
  let at = 0;
  for (const t of tensors) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    data.set(bytes, at);
    if (!HOST_IS_LITTLE_ENDIAN) swapBytes(data.subarray(at, at + bytes.length), t.data.BYTES_PER_ELEMENT);
    at += bytes.length;
  }
  return { entries, data };
}

/** The file: length prefix, header (metadata entries in the given order, then the tensors), data. */
export function assembleSafetensors({ entries, data }: SafetensorsLayout, metadata: Record<string, string>): Uint8Array {
  // Built by hand rather than through an object, so that keys such as "__proto__"
  // stay ordinary keys and the tensor order is exactly the order given.
  const metaJson = `{${Object.entries(metadata)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(',')}}`;
  const tensorJson = entries.map((e) => `${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: e.offsets })}`);
  const header = `{${[`${JSON.stringify(METADATA_KEY)}:${metaJson}`, ...tensorJson].join(',')}}`;

  const headerBytes = new TextEncoder().encode(header);
  const paddedLength = Math.ceil(headerBytes.length / DATA_ALIGNMENT) * DATA_ALIGNMENT;
  const out = new Uint8Array(8 + paddedLength + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(paddedLength), true);
  out.set(headerBytes, 8);
  out.fill(0x20, 8 + headerBytes.length, 8 + paddedLength); // JSON allows trailing spaces
  out.set(data, 8 + paddedLength);
  return out;
}

/** Serialise `tensors` (in the given order) and `metadata` into one safetensors file. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata: Record<string, string>): Uint8Array {
  return assembleSafetensors(layoutTensors(tensors), metadata);
}

/** Encode and write atomically: a crash leaves either the old file or the new one. */
export function writeSafetensors(path: string, tensors: NamedTensor[], metadata: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Read and validate a safetensors file; every defect is an InputError naming `path`. */
export function readSafetensors(path: string): SafetensorsFile {
  return decodeSafetensors(readInputFile(path, { what: 'a .safetensors snapshot' }), path);
}

/**
 * Parse the bytes of a safetensors file. Nothing in it is trusted until checked:
 * the header length against the file size (before any allocation), the header's
 * JSON structure, every tensor's dtype, shape and extent, the tiling of the data
 * region. `file` names the source in error messages. A checksum in the metadata is
 * not checked here: what it covers is the business of the format stored inside (a dlt
 * snapshot: src/snapshot/checksum.ts). The returned arrays are copies, independent of
 * `bytes`.
 */
export function decodeSafetensors(bytes: Uint8Array, file: string): SafetensorsFile {
  const fail = (what: string, hint = DAMAGED_HINT): InputError => new InputError(`${what}. ${hint}`, file);

  if (bytes.length === 0) throw fail('the file is empty (0 bytes); it was probably cut off while being written');
  if (bytes.length < 8) {
    throw fail(`the file is only ${bytes.length} bytes, too short to hold even the 8-byte header length`);
  }
  const claimed = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  const available = bytes.length - 8;
  if (claimed > BigInt(available)) {
    throw fail(`the header claims ${claimed} bytes but the file has only ${available} bytes after the length; it is truncated`);
  }
  if (claimed > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`the header claims ${claimed} bytes, more than the ${MAX_HEADER_BYTES}-byte limit for a header`);
  }
  const headerLength = Number(claimed);
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;

  let headerText: string;
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw fail('the header is not valid UTF-8 text');
  }
  let header: unknown;
  try {
    // JSON.parse defines every key as an own data property, so "__proto__" in the
    // file is an ordinary key here and never reaches a prototype.
    header = JSON.parse(headerText);
  } catch (err) {
    throw fail(`the header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) throw fail('the header is not a JSON object');

  const metadata = new Map<string, string>();
  const specs: { name: string; info: DTypeInfo; dtype: TensorDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (!isPlainObject(entry)) throw fail(`"${METADATA_KEY}" in the header is not a JSON object`);
      for (const [key, value] of Object.entries(entry)) {
        if (typeof value !== 'string') throw fail(`metadata "${key}" is not a string`);
        metadata.set(key, value);
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (!isPlainObject(entry)) throw fail(`${where} in the header is not a JSON object`);
    const dtype = ownField(entry, 'dtype');
    const info = typeof dtype === 'string' ? DTYPES.get(dtype) : undefined;
    if (!info) {
      throw fail(`${where} has dtype ${JSON.stringify(dtype) ?? 'missing'}; dlt reads only ${[...DTYPES.keys()].join(', ')}`);
    }
    const shape = ownField(entry, 'shape');
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
      throw fail(`${where} has shape ${JSON.stringify(shape) ?? 'missing'}; expected a list of integers ≥ 0`);
    }
    const offsets = ownField(entry, 'data_offsets');
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
      throw fail(`${where} has data_offsets ${JSON.stringify(offsets) ?? 'missing'}; expected [begin, end], integers ≥ 0`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) throw fail(`${where} has data_offsets [${begin}, ${end}] with begin after end`);
    if (end > dataLength) {
      throw fail(`${where} ends at byte ${end} but the data region has only ${dataLength} bytes; the file is truncated`);
    }
    let bytesNeeded = info.itemSize;
    for (const d of shape as number[]) bytesNeeded *= d;
    if (!Number.isSafeInteger(bytesNeeded) || bytesNeeded !== end - begin) {
      throw fail(
        `${where} of dtype ${dtype as string} and shape [${shape.join(', ')}] needs ${bytesNeeded} bytes ` +
          `but its data_offsets [${begin}, ${end}] span ${end - begin} (wrong byte length)`,
      );
    }
    specs.push({ name, info, dtype: dtype as TensorDType, shape: shape as number[], begin, end });
  }

  // The tensors must tile the data region: sorted by position, each starts where the
  // previous one ended (zero-size tensors sort before a tensor at the same offset).
  const byPosition = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const s of byPosition) {
    if (s.begin < covered) {
      throw fail(`tensors "${previous}" and "${s.name}" overlap (data_offsets cross at byte ${s.begin})`);
    }
    if (s.begin > covered) throw fail(`bytes ${covered}..${s.begin} of the data region belong to no tensor (a gap)`);
    covered = s.end;
    previous = s.name;
  }
  if (covered !== dataLength) {
    throw fail(`the last ${dataLength - covered} bytes of the data region belong to no tensor (trailing data)`);
  }

  const tensors = new Map<string, NamedTensor>();
  for (const s of specs) {
    // Copy into a fresh buffer: it is aligned whatever the offset inside `bytes`
    // (a Buffer from readFileSync may sit at any offset of a shared pool), and the
    // caller's tensors do not keep the whole file alive or alias it.
    const copy = new Uint8Array(s.end - s.begin);
    copy.set(bytes.subarray(dataStart + s.begin, dataStart + s.end));
    if (!HOST_IS_LITTLE_ENDIAN) swapBytes(copy, s.info.itemSize);
    const data = s.info.view(copy.buffer, copy.length / s.info.itemSize);
    tensors.set(s.name, { name: s.name, dtype: s.dtype, shape: s.shape, data });
  }
  const entries = specs.map((sp): TensorEntry => ({ name: sp.name, dtype: sp.dtype, shape: sp.shape, offsets: [sp.begin, sp.end] }));
  return { tensors, metadata, entries, data: bytes.subarray(dataStart) };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonNegativeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A field of a parsed JSON object, never one inherited from Object.prototype. */
function ownField(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Reverse the bytes of each `itemSize`-byte element in place (little- ↔ big-endian). */
function swapBytes(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i < bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
}
