import { writeSync } from 'node:fs';
import { withIo } from './ioError.js';

/**
 * Write all of `text` at the end of the file open as `fd` (opened for appending):
 * writeSync may write fewer bytes than asked (a full disk does this before it fails),
 * so it is called again for the rest. Failures name `file` (ioError).
 */
export function writeAll(fd: number, text: string, file: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) {
    const offset = done;
    done += withIo('write', file, () => writeSync(fd, bytes, offset, bytes.length - offset));
  }
}
