import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { withIo } from './ioError.js';

export interface InputFileOptions {
  /** What the file should be, for messages: "a YAML config", "an IDX labels file". */
  what: string;
  /** Refuse a larger file before reading it (a limit that bounds time and memory). */
  maxBytes?: number;
  /** Appended to the size message: how to do without a file that large. */
  tooLargeHint?: string;
}

/**
 * The bytes of a file the user named. Checked before reading: it must be a regular file
 * (a folder, a device such as /dev/zero, a pipe or a socket is refused, where reading
 * would fail or never end) and no larger than `maxBytes`. Every failure is a DltError
 * naming `file` (ioError).
 */
export function readInputFile(file: string, options: InputFileOptions): Buffer {
  const stat = withIo('read', file, () => statSync(file));
  if (stat.isDirectory()) throw new InputError(`this is a folder, not ${options.what}; give the path of a file`, file);
  if (!stat.isFile()) {
    throw new InputError(`this is not a regular file (a device, pipe or socket), so it cannot be ${options.what}; give the path of a file`, file);
  }
  if (options.maxBytes !== undefined && stat.size > options.maxBytes) {
    throw new InputError(
      `the file is ${megabytes(stat.size)}, more than the ${megabytes(options.maxBytes)} dlt reads as ${options.what}${options.tooLargeHint ? `; ${options.tooLargeHint}` : ''}`,
      file,
    );
  }
  return withIo('read', file, () => readFileSync(file));
}

function megabytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${bytes} bytes` : `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
