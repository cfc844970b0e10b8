/**
 * Crash-safe file replacement (SPEC §5): a reader sees either the old file or the
 * new one, never a half-written mix, whenever the process or the machine stops.
 *
 * The recipe is the usual POSIX one: write a temp file in the same folder (rename is
 * atomic only within one file system), fsync it so its bytes are on disk before its
 * name is, rename it over the target, then fsync the folder so the rename itself
 * survives a power cut.
 */

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ioError, withIo } from './ioError.js';

/**
 * Replace `path` with `data` atomically. On any failure the temp file is removed, the
 * previous content of `path` (if any) is untouched, and the error names `path`
 * (ioError: a full disk is "no space left while writing PATH").
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const folder = dirname(path);
  // Hidden, and unique per process and per call, so two writers never share a temp file.
  const tmp = join(folder, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(tmp, 'wx'); // 'x': fail rather than reuse a file that is already there
    created = true;
    writeFileSync(fd, data); // loops until every byte is written
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    created = false;
  } catch (err) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one worth reporting
      }
    }
    if (created) {
      try {
        unlinkSync(tmp);
      } catch {
        // nothing more can be done; the original error is the one worth reporting
      }
    }
    throw ioError(err, 'write', path);
  }
  withIo('write', path, () => syncFolder(folder));
}

/** Flush a folder's entries (the rename) to disk. */
function syncFolder(folder: string): void {
  let fd: number;
  try {
    fd = openSync(folder, 'r');
  } catch (err) {
    if (unsupported(err)) return;
    throw err;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    // Some platforms (Windows, some network file systems) cannot fsync a folder; the
    // file is already in place there, so this is the best durability on offer.
    if (!unsupported(err)) throw err;
  } finally {
    closeSync(fd);
  }
}

function unsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EACCES';
}
