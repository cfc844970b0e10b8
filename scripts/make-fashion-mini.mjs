#!/usr/bin/env node
/**
 * Builds datasets/fashion-mnist-mini/ from the full Fashion-MNIST: the first 10,000
 * training and the first 2,000 test images with their labels, as gzip IDX files with
 * the standard names. If a prefix is not roughly class-balanced (every class within
 * ±10% of an even share), it takes the first share of each class instead, in the
 * original order. Plain Node, no dependencies, no build step:
 *
 *   node scripts/make-fashion-mini.mjs [source-dir] [output-dir]
 *
 * source-dir defaults to /usr/share/datasets/fashion-mnist (Debian package
 * dataset-fashion-mnist); output-dir to datasets/fashion-mnist-mini next to this script.
 *
 * The output is byte-for-byte reproducible for a given zlib: fixed level, and Node's
 * gzip writes no file name and a zero mtime. The SHA-256 of the decompressed files,
 * printed at the end, does not depend on zlib at all.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

const CLASSES = 10;
const GZIP_LEVEL = 9;
const BALANCE_TOLERANCE = 0.1;
const CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = resolve(process.argv[2] ?? '/usr/share/datasets/fashion-mnist');
const outDir = resolve(process.argv[3] ?? join(here, '..', 'datasets', 'fashion-mnist-mini'));

const splits = [
  { name: 'train', prefix: 'train', size: 10_000 },
  { name: 'test', prefix: 't10k', size: 2_000 },
];

mkdirSync(outDir, { recursive: true });
for (const split of splits) {
  const images = readIdxGz(join(sourceDir, `${split.prefix}-images-idx3-ubyte.gz`), 3);
  const labels = readIdxGz(join(sourceDir, `${split.prefix}-labels-idx1-ubyte.gz`), 1);
  const [n, h, w] = images.dims;
  if (labels.dims[0] !== n) fail(`${split.name}: ${n} images but ${labels.dims[0]} labels`);
  if (split.size > n) fail(`${split.name}: asked for ${split.size} samples but the source has only ${n}`);

  const { indices, rule } = chooseSubset(labels.data, split.size);
  const pixels = h * w;
  const outImages = new Uint8Array(indices.length * pixels);
  const outLabels = new Uint8Array(indices.length);
  indices.forEach((src, dst) => {
    outImages.set(images.data.subarray(src * pixels, (src + 1) * pixels), dst * pixels);
    outLabels[dst] = labels.data[src];
  });

  console.log(`${split.name}: ${indices.length} of ${n} samples (${rule})`);
  const counts = classCounts(outLabels, indices.length);
  for (const [k, c] of counts.entries()) console.log(`  ${k} ${CLASS_NAMES[k].padEnd(12)} ${c}`);
  writeIdxGz(join(outDir, `${split.prefix}-images-idx3-ubyte.gz`), [indices.length, h, w], outImages);
  writeIdxGz(join(outDir, `${split.prefix}-labels-idx1-ubyte.gz`), [indices.length], outLabels);
}

/**
 * The first `size` samples when they are roughly balanced, else the first size/CLASSES of
 * each class. Either way the original order is kept.
 */
function chooseSubset(labels, size) {
  const share = size / CLASSES;
  const counts = classCounts(labels, size);
  if (counts.every((c) => Math.abs(c - share) <= BALANCE_TOLERANCE * share)) {
    return { indices: Array.from({ length: size }, (_, i) => i), rule: `the first ${size}, roughly balanced` };
  }
  const perClass = Math.floor(share);
  const taken = new Array(CLASSES).fill(0);
  const indices = [];
  for (let i = 0; i < labels.length && indices.length < perClass * CLASSES; i++) {
    if (taken[labels[i]] < perClass) {
      taken[labels[i]]++;
      indices.push(i);
    }
  }
  if (indices.length < perClass * CLASSES) fail(`not enough samples for ${perClass} of every class`);
  return { indices, rule: `the first ${perClass} of each class, since the first ${size} are unbalanced` };
}

function classCounts(labels, n) {
  const counts = new Array(CLASSES).fill(0);
  for (let i = 0; i < n; i++) {
    if (labels[i] >= CLASSES) fail(`label ${labels[i]} at index ${i} is not a Fashion-MNIST class`);
    counts[labels[i]]++;
  }
  return counts;
}

/** Reads a gzip IDX file of unsigned bytes with `ndims` dimensions. */
function readIdxGz(path, ndims) {
  const bytes = gunzipSync(readFileSync(path));
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08 || bytes[3] !== ndims) {
    fail(`${path}: not an unsigned-byte IDX file with ${ndims} dimensions`);
  }
  const header = 4 + 4 * ndims;
  const dims = [];
  for (let i = 0; i < ndims; i++) dims.push(bytes.readUInt32BE(4 + 4 * i));
  const size = dims.reduce((p, d) => p * d, 1);
  if (bytes.length !== header + size) fail(`${path}: header says ${size} bytes of data, file has ${bytes.length - header}`);
  return { dims, data: bytes.subarray(header) };
}

function writeIdxGz(path, dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  for (const [i, d] of dims.entries()) header.writeUInt32BE(d, 4 + 4 * i);
  const raw = Buffer.concat([header, data]);
  const gz = gzipSync(raw, { level: GZIP_LEVEL });
  // Byte 9 of a gzip header names the OS zlib was built for; pin it to Unix (3) so that
  // the same zlib gives the same bytes on every platform.
  gz[9] = 3;
  writeFileSync(path, gz);
  console.log(`  wrote ${path}: ${gz.length} bytes, sha256 of contents ${sha256(raw)}`);
}

function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

function fail(message) {
  console.error(`make-fashion-mini: ${message}`);
  process.exit(1);
}
