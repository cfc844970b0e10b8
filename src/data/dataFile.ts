import { statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { type InputFileOptions, readInputFile } from '../util/inputFile.js';
import { errnoCode } from '../util/ioError.js';

/** 1 GiB: larger than any data set dlt is meant for (full EMNIST's images are 0.55 GB), far below what would exhaust memory. */
export const MAX_DATA_BYTES = 1024 ** 3;

/**
 * The bytes of a dataset file the config names under `key` (e.g. "data.train.images"),
 * read with readInputFile: a folder, a device such as /dev/zero, a pipe, or a file over
 * `maxBytes` is refused before reading, and every failure names the file. A missing file
 * says where relative paths start.
 */
export function readDataFile(file: string, key: string, options: InputFileOptions): Buffer {
  try {
    statSync(file);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new InputError(`file not found; check ${key} (relative paths resolve against the config file's folder)`, file);
    }
  }
  return readInputFile(file, options);
}
