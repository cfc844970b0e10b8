import { InputError, RunError } from '../errors.js';

/**
 * A failed file-system call as the user should read it: the path, what dlt was doing
 * (`operation`, e.g. "write", "create the folder"), why, and what to do. A path the user
 * can fix (missing, not a folder, no permission, read-only, name too long) is bad input,
 * exit 2; a full disk or a failing device is a failed run, exit 1. Anything that is not
 * an errno error (a bug) is returned unchanged.
 */
export function ioError(err: unknown, operation: string, path: string): unknown {
  const code = errnoCode(err);
  if (code === undefined) return err;
  const cannot = `cannot ${operation}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new RunError(`no space left while writing ${path}; free some space on that disk, then run the command again`);
    case 'ENOENT':
      return new InputError(`${cannot}: no such file or folder; check the path`, path);
    case 'ENOTDIR':
      return new InputError(`${cannot}: a part of the path is a file, not a folder; check the path`, path);
    case 'EISDIR':
      return new InputError(`${cannot}: it is a folder, not a file; give the path of a file`, path);
    case 'EEXIST':
      return new InputError(`${cannot}: something is already there; choose another path or move it away`, path);
    case 'ENAMETOOLONG':
      return new InputError(`${cannot}: the name is too long for the file system; choose a shorter name or path`, path);
    case 'EACCES':
    case 'EPERM':
      return new InputError(`${cannot}: permission denied; choose a folder you can write to, or fix its permissions`, path);
    case 'EROFS':
      return new InputError(`${cannot}: the file system is read-only; choose a folder on a writable disk`, path);
    case 'ELOOP':
      return new InputError(`${cannot}: too many symbolic links; check the path`, path);
    default:
      return new RunError(`${cannot}: ${code} (${message(err)}); check the disk and try again`, path);
  }
}

/** Run `action`, turning a file-system error into ioError's user error. */
export function withIo<T>(operation: string, path: string, action: () => T): T {
  try {
    return action();
  } catch (err) {
    throw ioError(err, operation, path);
  }
}

/** The errno code (`ENOENT`, ...) of a Node.js file-system error, else undefined. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const { code } = err;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
