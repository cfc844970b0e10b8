import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Create `<outDir>/<name>-<YYYYMMDD-HHMMSS>/` with its snapshots/ folder (SPEC §4).
 * A new folder every time: a run never writes into another run's directory. When two
 * runs start in the same second, the later one gets a `-2`, `-3`, ... suffix.
 */
export function createRunDir(outDir: string, name: string, now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  mkdirSync(outDir, { recursive: true });
  for (let k = 1; ; k++) {
    const dir = path.join(outDir, `${name}-${stamp}${k > 1 ? `-${k}` : ''}`);
    if (existsSync(dir)) continue;
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue; // lost a race with another run
      throw err;
    }
    mkdirSync(path.join(dir, 'snapshots'));
    return dir;
  }
}
