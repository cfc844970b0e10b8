/**
 * IDX files, the format MNIST and Fashion-MNIST ship in (raw or gzip-compressed).
 *
 * Layout (all integers big-endian):
 *   bytes 0–1   zero
 *   byte  2     element type: 0x08 unsigned byte (the only one dlt reads), 0x09 signed byte,
 *               0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
 *   byte  3     number of dimensions, ndims
 *   4·ndims     the dimensions, uint32 each: [N] for labels, [N, H, W] for images
 *   then        product(dims) elements, row-major
 *
 * A dataset file is user input, so the header is checked against the bytes actually
 * present before anything is allocated from it: a damaged header must give a message,
 * not an out-of-memory crash.
 */
import { gunzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { MAX_DATA_BYTES, readDataFile } from './dataFile.js';
import type { Dataset } from './dataset.js';

/** Element types an IDX header may name; dlt reads only unsigned bytes. */
const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};
const UNSIGNED_BYTE = 0x08;
const MAX_DIMS = 4;
const TOO_LARGE = 'dlt reads a data set whole into memory, and IDX data sets (MNIST, EMNIST) are far smaller; check the path';

/**
 * Reads one IDX file of unsigned bytes, raw or gzip-compressed (recognised by its magic
 * bytes 1f 8b, whatever the file is called).
 *
 * @param path the file to read.
 * @param role the config key the path came from, e.g. "data.train.images", for messages.
 * @returns the dimensions from the header and the elements, a view into the decoded file.
 * @throws InputError naming `path` when the file is missing, damaged or not IDX.
 */
export function readIdx(path: string, role: string): { dims: number[]; data: Uint8Array } {
  const raw = readDataFile(path, role, { what: 'an IDX file', maxBytes: MAX_DATA_BYTES, tooLargeHint: TOO_LARGE });
  const bytes = decode(raw, path);

  if (bytes.length === 0) {
    throw new InputError(`the file is empty; ${role} must name an IDX file such as train-images-idx3-ubyte.gz`, path);
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || IDX_TYPES[bytes[2]!] === undefined) {
    throw new InputError(
      `not an IDX file: it starts with bytes ${hexBytes(bytes, 4)}${guessKind(bytes)}, but an IDX file starts with ` +
        `00 00 08 <number of dimensions>; check that ${role} names an MNIST-style IDX file ` +
        `(e.g. train-images-idx3-ubyte.gz)`,
      path,
    );
  }

  const type = bytes[2]!;
  if (type !== UNSIGNED_BYTE) {
    throw new InputError(
      `IDX element type 0x${hex(type)} (${IDX_TYPES[type]}) is not supported; dlt reads only unsigned-byte IDX ` +
        `files (type 0x08), the format of MNIST and Fashion-MNIST`,
      path,
    );
  }

  const ndims = bytes[3]!;
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw new InputError(
      `the IDX header says the data has ${ndims} dimensions; dlt reads 1 (labels) to ${MAX_DIMS} ([N, C, H, W] ` +
        `images) — the file is damaged or not a dataset file`,
      path,
    );
  }

  const headerLength = 4 + 4 * ndims;
  if (bytes.length < headerLength) {
    throw new InputError(
      `the file ends inside its IDX header: it holds ${bytes.length} bytes but a header with ${ndims} dimensions ` +
        `needs ${headerLength}; the file is cut short — download it again`,
      path,
    );
  }

  const header = new DataView(bytes.buffer, bytes.byteOffset, headerLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) {
    const d = header.getUint32(4 + 4 * i, false);
    if (d < 1) {
      throw new InputError(
        `the IDX header gives dimension ${i + 1} of ${ndims} as 0; every dimension must be at least 1 — the file is damaged, download it again`,
        path,
      );
    }
    dims.push(d);
  }

  // BigInt: four uint32 dimensions can multiply past 2^53, and the number goes into a message.
  const claimed = dims.reduce((p, d) => p * BigInt(d), 1n);
  const present = bytes.length - headerLength;
  const what = `${describe(dims, role)} = ${claimed} bytes`;
  if (claimed > BigInt(present)) {
    throw new InputError(
      `the header claims ${what} but the file holds only ${present} bytes after its ${headerLength}-byte header; ` +
        `the file is cut short or its header is damaged — download it again`,
      path,
    );
  }
  if (claimed < BigInt(present)) {
    throw new InputError(
      `the header describes ${what} but the file holds ${present} bytes after its ${headerLength}-byte header ` +
        `(${BigInt(present) - claimed} extra bytes at the end); the file is damaged or two files were joined — ` +
        `download it again`,
      path,
    );
  }

  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerLength, present) };
}

/**
 * Reads an image file and its label file (MNIST layout) into a Dataset.
 *
 * @param role the config key of the pair, e.g. "data.train"; messages name
 *   `<role>.images` and `<role>.labels`.
 * @returns x = the uint8 pixels as stored (a view, not a copy), sampleShape [C, H, W]
 *   (C = 1 for [N, H, W] files), labels widened to Int32Array.
 */
export function loadIdxDataset(imagesPath: string, labelsPath: string, role: string): Dataset {
  const images = readIdx(imagesPath, `${role}.images`);
  const labels = readIdx(labelsPath, `${role}.labels`);

  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new InputError(
      `expected an image file with dimensions [N, H, W] or [N, C, H, W], but this file has ` +
        `${formatDims(images.dims)}` +
        (images.dims.length === 1 ? `, like a label file; are ${role}.images and ${role}.labels swapped?` : ''),
      imagesPath,
    );
  }
  if (labels.dims.length !== 1) {
    throw new InputError(
      `expected a label file with dimensions [N], but this file has ${formatDims(labels.dims)}` +
        (labels.dims.length >= 3 ? `, like an image file; are ${role}.images and ${role}.labels swapped?` : ''),
      labelsPath,
    );
  }

  const count = images.dims[0]!;
  const labelCount = labels.dims[0]!;
  if (labelCount !== count) {
    throw new InputError(
      `${imagesPath} holds ${count} images but ${labelsPath} holds ${labelCount} labels; ${role}.images and ` +
        `${role}.labels must come from the same split (train-* with train-*, t10k-* with t10k-*)`,
      labelsPath,
    );
  }

  const sampleShape = images.dims.length === 3 ? [1, images.dims[1]!, images.dims[2]!] : images.dims.slice(1);
  return {
    x: images.data,
    labels: Int32Array.from(labels.data),
    count,
    sampleShape,
    source: imagesPath,
    labelSource: labelsPath,
  };
}

/**
 * Gunzips when the bytes start with the gzip magic number, else returns them unchanged.
 * The output is bounded like a raw file, so a small file that inflates without end (a
 * gzip bomb) stops at MAX_DATA_BYTES instead of filling memory.
 */
function decode(raw: Uint8Array, path: string): Uint8Array {
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return gunzipSync(raw, { maxOutputLength: MAX_DATA_BYTES });
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : undefined;
    if (code === 'Z_BUF_ERROR') {
      throw new InputError(
        'the gzip data is cut short (unexpected end of file); the download was probably interrupted — download the file again',
        path,
      );
    }
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new InputError(`the gzip data decompresses to more than ${MAX_DATA_BYTES / 1024 ** 3} GiB; ${TOO_LARGE}`, path);
    }
    throw new InputError(`the gzip data is corrupt (${err instanceof Error ? err.message : String(err)}); download the file again`, path);
  }
}

/** "60000 images of 28×28", "60000 labels": the header's claim in words. */
function describe(dims: number[], role: string): string {
  const [n, ...rest] = dims;
  if (rest.length === 0) return `${n} ${/label/i.test(role) ? 'labels' : 'values'}`;
  if (rest.length === 1) return `${n} rows of ${rest[0]}`;
  return `${n} images of ${rest.join('×')}`;
}

function formatDims(dims: number[]): string {
  return `${dims.length} dimension${dims.length === 1 ? '' : 's'} [${dims.join(', ')}]`;
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}

function hexBytes(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), hex).join(' ');
}

/** A hint at what the file is instead, for the "not an IDX file" message. */
function guessKind(bytes: Uint8Array): string {
  const starts = (...sig: number[]): boolean => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47)) return ' (a PNG image)';
  if (starts(0xff, 0xd8, 0xff)) return ' (a JPEG image)';
  if (starts(0x50, 0x4b, 0x03, 0x04)) return ' (a zip archive; unzip it first)';
  const head = bytes.subarray(0, 64);
  if (head.length > 0 && head.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) {
    return ' (it looks like text)';
  }
  return '';
}
