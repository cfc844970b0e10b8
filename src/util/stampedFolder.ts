import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ioError, withIo } from './ioError.js';

/**
 * Create `<outDir>/<name>-<YYYYMMDD-HHMMSS>/` (local time), or `-2`, `-3`, ... after it
 * when another process took the name first, and return its path. Used for run and sweep
 * directories alike.
 */
export function createStampedFolder(outDir: string, name: string, now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  withIo('create the folder', outDir, () => mkdirSync(outDir, { recursive: true }));
  for (let k = 1; ; k++) {
    const root = path.join(outDir, `${name}-${stamp}${k > 1 ? `-${k}` : ''}`);
    try {
      mkdirSync(root); // fails with EEXIST when another process took the name: try the next
      return root;
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'EEXIST') continue;
      throw ioError(err, 'create the folder', root);
    }
  }
}
