import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import path from 'node:path';

/**
 * Files that are not what a reader expects, to check that readers refuse them before
 * reading: reading a FIFO without a writer blocks for ever, /dev/zero never ends, and a
 * huge file fills memory.
 */

/** A named pipe in `dir` (mkfifo). */
export function fifo(dir: string, name = 'pipe'): string {
  const file = path.join(dir, name);
  const r = spawnSync('mkfifo', [file]);
  if (r.status !== 0) throw new Error(`mkfifo ${file} failed: ${r.stderr}`);
  return file;
}

/** A file of `bytes` bytes that takes no disk space (a hole): its size is all a reader sees before reading. */
export function sparseFile(dir: string, name: string, bytes: number): string {
  const file = path.join(dir, name);
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return file;
}
