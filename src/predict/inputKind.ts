import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { withIo } from '../util/ioError.js';

/** What `dlt predict` was given to classify. */
export type InputKind = 'csv' | 'idx' | 'cifar10' | 'image' | 'image-folder';

/** The kinds of input, for messages. */
export const INPUT_KINDS = 'a CSV file (.csv), an IDX images file, a CIFAR-10 .bin batch, a PNG or JPEG image, or a folder of PNG/JPEG images';

/** File names `dlt predict` reads as images, alone or in a folder. */
export const IMAGE_NAME = /\.(png|jpe?g)$/i;

/**
 * Which kind of input `input` is. The first bytes decide where they can: PNG and JPEG
 * signatures, IDX's `00 00 <type>` and gzip's `1f 8b` (the IDX files MNIST ships are
 * gzipped); the name decides the rest (.csv, .bin for CIFAR-10, and .png/.jpg/.jpeg,
 * so that a damaged image is reported as one). A folder is a folder of images.
 *
 * @throws InputError naming `input` when it is missing, not a regular file, or of no kind dlt reads.
 */
export function inputKind(input: string): InputKind {
  if (!existsSync(input)) throw new InputError(`no such file or folder; give ${INPUT_KINDS}`, input);
  const stat = withIo('read', input, () => statSync(input));
  if (stat.isDirectory()) return 'image-folder';
  if (!stat.isFile()) throw new InputError(`this is not a regular file (a device, pipe or socket); give ${INPUT_KINDS}`, input);

  const head = leadingBytes(input, 4);
  const starts = (...signature: number[]): boolean => signature.every((b, i) => head[i] === b);
  const name = path.basename(input);
  if (starts(0x89, 0x50, 0x4e, 0x47) || starts(0xff, 0xd8, 0xff) || IMAGE_NAME.test(name)) return 'image';
  if (starts(0x1f, 0x8b) || (starts(0x00, 0x00) && head.length === 4)) return 'idx';
  if (/\.csv$/i.test(name)) return 'csv';
  if (/\.bin$/i.test(name)) return 'cifar10';
  // A damaged IDX file by its usual name: readIdx says what is wrong with it.
  if (/idx\d-ubyte/i.test(name)) return 'idx';
  if (head.length === 0) throw new InputError(`the file is empty; give ${INPUT_KINDS}`, input);
  throw new InputError(
    `cannot tell what kind of file this is (it starts with bytes ${Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ')}); give ${INPUT_KINDS}`,
    input,
  );
}

/** Up to the first `n` bytes of a file. */
function leadingBytes(file: string, n: number): Uint8Array {
  return withIo('read', file, () => {
    const fd = openSync(file, 'r');
    try {
      const bytes = new Uint8Array(n);
      return bytes.subarray(0, readSync(fd, bytes, 0, n, 0));
    } finally {
      closeSync(fd);
    }
  });
}
