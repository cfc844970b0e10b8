/**
 * CIFAR-10 in its binary distribution (cifar-10-binary.tar.gz, which extracts to
 * cifar-10-batches-bin/).
 *
 * Layout: a batch file is a sequence of 3073-byte records, no header:
 *   byte 0        the label, 0–9
 *   bytes 1–1024  red plane, 32×32 row-major
 *   then 1024     green plane, then 1024 blue plane
 * so one record's pixels are already one sample in [C, H, W] = [3, 32, 32] order.
 * The training set is data_batch_1.bin … data_batch_5.bin (10,000 records each), the
 * test set test_batch.bin; batches.meta.txt lists the ten class names, one per line
 * (dlt does not need it: labels are used as class indices).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { withIo } from '../util/ioError.js';
import { MAX_DATA_BYTES, readDataFile } from './dataFile.js';
import type { Dataset } from './dataset.js';

const CLASSES = 10;
const CHANNELS = 3;
const SIDE = 32;
const PIXELS = CHANNELS * SIDE * SIDE;
const RECORD = 1 + PIXELS;

export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((k) => `data_batch_${k}.bin`);
export const CIFAR10_TEST_FILES = ['test_batch.bin'];

/**
 * Reads CIFAR-10 batches into one Dataset: x = uint8 pixels [N, 3, 32, 32], as stored.
 *
 * @param location a folder holding the batch files, or one .bin batch file.
 * @param split which batches of a folder to read (ignored for a single file).
 * @param role the config key of the spec, e.g. "data.train", for messages.
 */
export function loadCifar10(location: string, split: 'train' | 'test', role: string): Dataset {
  const files = batchFiles(location, split, role);
  const parts = files.map((file) => readBatch(file, role));
  const count = parts.reduce((n, p) => n + p.length / RECORD, 0);
  const x = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  let sample = 0;
  parts.forEach((bytes, b) => {
    for (let offset = 0; offset < bytes.length; offset += RECORD, sample++) {
      const label = bytes[offset]!;
      if (label >= CLASSES) {
        throw new InputError(
          `record ${offset / RECORD} (byte offset ${offset}) has label byte ${label}, but CIFAR-10 labels are 0–9; ` +
            `the file is damaged or not a CIFAR-10 batch (CIFAR-100's binary files have two label bytes per record and are not supported)`,
          files[b],
        );
      }
      labels[sample] = label;
      x.set(bytes.subarray(offset + 1, offset + RECORD), sample * PIXELS);
    }
  });
  return { x, labels, count, sampleShape: [CHANNELS, SIDE, SIDE], source: files.length === 1 ? files[0]! : location };
}

function batchFiles(location: string, split: 'train' | 'test', role: string): string[] {
  if (!existsSync(location)) {
    throw new InputError(
      `no such folder or file; ${role}.path must name the folder cifar-10-batches-bin (extracted from ` +
        `https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz) or one of its .bin files`,
      location,
    );
  }
  if (!withIo('read', location, () => statSync(location)).isDirectory()) return [location];
  const expected = split === 'train' ? CIFAR10_TRAIN_FILES : CIFAR10_TEST_FILES;
  const missing = expected.filter((f) => !existsSync(path.join(location, f)));
  if (missing.length > 0) {
    const inner = path.join(location, 'cifar-10-batches-bin');
    const hint = existsSync(inner)
      ? `; the batches seem to be in ${inner} — point ${role}.path there`
      : withIo('list', location, () => readdirSync(location)).some((f) => f === 'cifar-10-binary.tar.gz')
        ? '; extract cifar-10-binary.tar.gz first (tar xzf cifar-10-binary.tar.gz)'
        : '';
    throw new InputError(
      `the ${split} split of CIFAR-10 needs ${expected.join(', ')} in this folder, but ${missing.join(', ')} ` +
        `${missing.length === 1 ? 'is' : 'are'} missing${hint}`,
      location,
    );
  }
  return expected.map((f) => path.join(location, f));
}

function readBatch(file: string, role: string): Uint8Array {
  const bytes = readDataFile(file, `${role}.path`, {
    what: 'a CIFAR-10 batch file',
    maxBytes: MAX_DATA_BYTES,
    tooLargeHint: `a CIFAR-10 batch is ${(10_000 * RECORD).toLocaleString('en')} bytes; check ${role}.path`,
  });
  if (bytes.length === 0) throw new InputError('the batch file is empty; download and extract CIFAR-10 again', file);
  if (bytes.length % RECORD !== 0) {
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    throw new InputError(
      `the file holds ${bytes.length} bytes, which is not a whole number of ${RECORD}-byte CIFAR-10 records ` +
        `(${Math.floor(bytes.length / RECORD)} records and ${bytes.length % RECORD} bytes over)` +
        (gzip ? '; it is gzip-compressed — extract the archive first' : '; the file is cut short or not a CIFAR-10 binary batch — download it again'),
      file,
    );
  }
  return bytes;
}
