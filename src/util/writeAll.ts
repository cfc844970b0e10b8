import { writeSync } from 'node:fs';
import { withIo } from './ioError.js';

/**
 * Write all of `data` (text as UTF-8, or bytes) at the end of the file open as `fd` (opened for appending):
 * writeSync may write fewer bytes than asked (a full disk does this before it fails),
 * so it is called again for the rest. Failures name `file` (ioError).
 */
export function writeAll(fd: number, data: string | Uint8Array, file: string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let done = 0;
  while (done < bytes.length) {
    const offset = done;
    done += withIo('write', file, () => writeSync(fd, bytes, offset, bytes.length - offset));
  }
}
