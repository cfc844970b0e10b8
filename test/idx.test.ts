import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdxDataset, readIdx } from '../src/data/idx.js';
import { checkLabels } from '../src/data/load.js';
import { InputError } from '../src/errors.js';
import { fifo, sparseFile } from './support/specialFiles.js';

const dir = mkdtempSync(join(tmpdir(), 'dlt-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** IDX bytes: header for `dims` (claimed, may lie), then `payload`. */
function idx(dims: number[], payload: Uint8Array, type = 0x08): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => {
    header.writeUInt32BE(d, 4 + 4 * i);
  });
  return Buffer.concat([header, payload]);
}

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** Runs fn, expects an InputError naming `file`, and returns it for message checks. */
function inputError(fn: () => unknown, file?: string): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InputError);
  const err = caught as InputError;
  if (file !== undefined) expect(err.file).toBe(file);
  return err;
}

// 3 images of 2×4, pixel k = k, so each byte says where it came from.
const pixels = Uint8Array.from({ length: 3 * 2 * 4 }, (_, k) => k);
const labels = Uint8Array.from([7, 0, 9]);

describe('readIdx', () => {
  it('reads a raw file', () => {
    const path = write('raw-images', idx([3, 2, 4], pixels));
    const { dims, data } = readIdx(path, 'data.train.images');
    expect(dims).toEqual([3, 2, 4]);
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Array.from(data)).toEqual(Array.from(pixels));
  });

  it('reads a gzip file, recognised by its magic bytes rather than its name', () => {
    const path = write('gzipped-but-named-plainly', gzipSync(idx([3, 2, 4], pixels)));
    const { dims, data } = readIdx(path, 'data.train.images');
    expect(dims).toEqual([3, 2, 4]);
    expect(Array.from(data)).toEqual(Array.from(pixels));
  });

  it('returns the payload as a view of the decoded bytes, not a copy', () => {
    const path = write('view', idx([3], labels));
    const { data } = readIdx(path, 'data.train.labels');
    // A copy would own its own buffer; a view starts after the 8-byte header in the file's.
    expect(data.byteOffset).toBeGreaterThanOrEqual(8);
    expect(data.buffer.byteLength).toBeGreaterThanOrEqual(8 + 3);
    expect(Array.from(data)).toEqual([7, 0, 9]);
  });

  it('reports a missing file and the config key to check', () => {
    const path = join(dir, 'no-such-file.gz');
    const err = inputError(() => readIdx(path, 'data.test.images'), path);
    expect(err.message).toContain('file not found');
    expect(err.message).toContain('data.test.images');
  });

  it('refuses /dev/zero, a pipe or a folder at once, naming it', () => {
    const pipe = fifo(dir);
    for (const [file, what] of [
      ['/dev/zero', 'this is not a regular file (a device, pipe or socket), so it cannot be an IDX file'],
      [pipe, 'this is not a regular file (a device, pipe or socket), so it cannot be an IDX file'],
      [dir, 'this is a folder, not an IDX file'],
    ] as const) {
      expect(inputError(() => readIdx(file, 'data.train.images'), file).message).toContain(what);
    }
  });

  it('refuses a file over 1 GiB before reading it', () => {
    const huge = sparseFile(dir, 'huge-images', 1024 ** 3 + 1);
    expect(inputError(() => readIdx(huge, 'data.train.images'), huge).message).toContain('more than the 1024.0 MiB dlt reads as an IDX file');
  });

  it('reports an empty file', () => {
    const path = write('empty', new Uint8Array(0));
    expect(inputError(() => readIdx(path, 'data.train.images'), path).message).toContain('empty');
  });

  it('reports a raw file cut short inside the data, with both sizes', () => {
    const path = write('truncated-raw', idx([3, 2, 4], pixels.subarray(0, 20)));
    const err = inputError(() => readIdx(path, 'data.train.images'), path);
    expect(err.message).toContain('3 images of 2×4 = 24 bytes');
    expect(err.message).toContain('only 20 bytes');
  });

  it('reports a raw file cut short inside the header', () => {
    const path = write('truncated-header', idx([3, 2, 4], pixels).subarray(0, 10));
    const err = inputError(() => readIdx(path, 'data.train.images'), path);
    expect(err.message).toContain('ends inside its IDX header');
  });

  it('reports a truncated gzip file', () => {
    const gz = gzipSync(idx([3, 2, 4], pixels));
    const path = write('truncated.gz', gz.subarray(0, gz.length - 12));
    const err = inputError(() => readIdx(path, 'data.train.images'), path);
    expect(err.message).toContain('cut short');
    expect(err.message).toContain('download the file again');
  });

  it('reports a corrupt gzip file', () => {
    const gz = Buffer.from(gzipSync(idx([3, 2, 4], pixels)));
    gz[gz.length - 6]! ^= 0xff; // damage the CRC-32 in the trailer
    const path = write('corrupt.gz', gz);
    const err = inputError(() => readIdx(path, 'data.train.images'), path);
    expect(err.message).toContain('gzip data is corrupt');
  });

  it('reports a PNG as not an IDX file', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    const path = write('picture.png', png);
    const err = inputError(() => readIdx(path, 'data.train.images'), path);
    expect(err.message).toContain('not an IDX file');
    expect(err.message).toContain('PNG');
  });

  it('reports a text file as not an IDX file', () => {
    const path = write('table.csv', Buffer.from('label,pixel0,pixel1\n3,0,255\n'));
    const err = inputError(() => readIdx(path, 'data.train.images'), path);
    expect(err.message).toContain('not an IDX file');
    expect(err.message).toContain('text');
  });

  it('refuses IDX element types other than unsigned byte', () => {
    const path = write('floats', idx([2], new Uint8Array(8), 0x0d));
    const err = inputError(() => readIdx(path, 'data.train.labels'), path);
    expect(err.message).toContain('float32');
    expect(err.message).toContain('not supported');
  });

  it('refuses zero or more than four dimensions', () => {
    const none = write('zero-dims', Uint8Array.from([0, 0, 8, 0, 1, 2]));
    expect(inputError(() => readIdx(none, 'x'), none).message).toContain('0 dimensions');
    const five = write('five-dims', idx([1, 1, 1, 1, 1], Uint8Array.from([1])));
    expect(inputError(() => readIdx(five, 'x'), five).message).toContain('5 dimensions');
  });

  it('refuses a zero dimension', () => {
    const path = write('zero-dim', idx([3, 0, 4], new Uint8Array(0)));
    expect(inputError(() => readIdx(path, 'x'), path).message).toContain('dimension 2 of 3 as 0');
  });

  it('refuses a header claiming far more data than present, without allocating it', () => {
    // 2^31 images of 28×28 would be 1.7 TB; the reader must compare, not allocate.
    const path = write('liar', idx([2 ** 31, 28, 28], new Uint8Array(1234)));
    const started = performance.now();
    const err = inputError(() => readIdx(path, 'data.train.images'), path);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err.message).toContain(`${2 ** 31} images of 28×28 = ${2 ** 31 * 784} bytes`);
    expect(err.message).toContain('only 1234 bytes');
  });

  it('refuses extra bytes after the data', () => {
    const path = write('trailing', idx([3], Uint8Array.from([1, 2, 3, 4, 5])));
    const err = inputError(() => readIdx(path, 'data.train.labels'), path);
    expect(err.message).toContain('3 labels = 3 bytes');
    expect(err.message).toContain('2 extra bytes');
  });
});

describe('loadIdxDataset', () => {
  const images = write('ds-images.gz', gzipSync(idx([3, 2, 4], pixels)));
  const labelFile = write('ds-labels.gz', gzipSync(idx([3], labels)));

  it('pairs [N, H, W] images with labels as a one-channel Dataset', () => {
    const ds = loadIdxDataset(images, labelFile, 'data.train');
    expect(ds.count).toBe(3);
    expect(ds.sampleShape).toEqual([1, 2, 4]);
    expect(ds.x).toBeInstanceOf(Uint8Array);
    expect(Array.from(ds.x)).toEqual(Array.from(pixels));
    expect(ds.labels).toBeInstanceOf(Int32Array);
    expect(Array.from(ds.labels)).toEqual([7, 0, 9]);
    expect(ds.source).toBe(images);
  });

  it('keeps the channel dimension of [N, C, H, W] images', () => {
    const path = write('ds-images4', idx([3, 2, 2, 2], pixels));
    expect(loadIdxDataset(path, labelFile, 'data.train').sampleShape).toEqual([2, 2, 2]);
  });

  it('reports a label count that differs from the image count, naming both files', () => {
    const twoLabels = write('ds-two-labels', idx([2], labels.subarray(0, 2)));
    const err = inputError(() => loadIdxDataset(images, twoLabels, 'data.train'), twoLabels);
    expect(err.message).toContain(`${images} holds 3 images`);
    expect(err.message).toContain(`${twoLabels} holds 2 labels`);
  });

  it('notices images and labels given the wrong way round', () => {
    const err = inputError(() => loadIdxDataset(labelFile, images, 'data.train'), labelFile);
    expect(err.message).toContain('swapped');
  });

  it('names the labels file, the label and its index when a label is not below the number of classes', () => {
    const data = loadIdxDataset(images, labelFile, 'data.train');
    const splits = { train: { name: 'train' as const, data, indices: Uint32Array.from([0, 1, 2]) }, warnings: [] };
    const err = inputError(() => checkLabels(splits, 8), labelFile);
    expect(err.message).toContain('label 9 at sample 2 is not below the number of classes, 8');
  });

  it('passes on errors from either file', () => {
    const missing = join(dir, 'missing-labels');
    const err = inputError(() => loadIdxDataset(images, missing, 'data.test'), missing);
    expect(err.message).toContain('data.test.labels');
  });
});

describe('the shipped fashion-mnist-mini', () => {
  const folder = fileURLToPath(new URL('../datasets/fashion-mnist-mini/', import.meta.url));

  for (const [prefix, expected] of [
    ['train', 10_000],
    ['t10k', 2_000],
  ] as const) {
    it(`${prefix}: ${expected} images of 28×28 with every class 0–9`, () => {
      const ds = loadIdxDataset(join(folder, `${prefix}-images-idx3-ubyte.gz`), join(folder, `${prefix}-labels-idx1-ubyte.gz`), 'data.train');
      expect(ds.count).toBe(expected);
      expect(ds.sampleShape).toEqual([1, 28, 28]);
      expect(ds.x.length).toBe(expected * 28 * 28);
      expect(Math.min(...ds.labels)).toBe(0);
      expect(Math.max(...ds.labels)).toBe(9);
      const perClass = new Array<number>(10).fill(0);
      for (const label of ds.labels) perClass[label]!++;
      // Roughly balanced, as the README says: every class within ±10% of an even share.
      for (const n of perClass) expect(Math.abs(n - expected / 10)).toBeLessThanOrEqual(expected / 100);
    });
  }
});
