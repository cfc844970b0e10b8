import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { nativeBuildDir } from './native.js';

/** The count used when nothing was measured: two, or one on a single-CPU machine. */
const FALLBACK = Math.min(2, availableParallelism());

/** What scripts/calibrate-threads.mjs writes to native/build/threads.json (the fields read here). */
const calibrationSchema = z.object({
  threads: z.number().int().min(1).max(1024),
  cpus: z.number().int().min(1),
  blas: z.string(),
  date: z.string(),
});

/** The native backend's default thread count, and where it comes from (for the bench and the README's claims). */
export interface ThreadDefault {
  threads: number;
  source: string;
}

/**
 * The BLAS thread count that ran a training step's products fastest when the addon was
 * built on this machine (scripts/calibrate-threads.mjs). A measurement taken with another
 * number of CPUs (a copied install, a resized VM) or another BLAS configuration (the
 * BLAS's config string names the CPU kernels it picked) does not count, nor does a
 * missing or unreadable one: then the default is two threads, one on a single CPU.
 */
export function defaultThreads(blasConfig: string | undefined, file = `${nativeBuildDir}threads.json`): ThreadDefault {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { threads: FALLBACK, source: 'not measured (npm run build:native measures it)' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = calibrationSchema.safeParse(json);
  if (!parsed.success) return { threads: FALLBACK, source: `${file} is not a thread calibration; npm run build:native measures again` };
  const measured = parsed.data;
  if (measured.cpus !== availableParallelism()) {
    return { threads: FALLBACK, source: `measured with ${measured.cpus} CPUs, not this machine's ${availableParallelism()}` };
  }
  if (blasConfig !== undefined && measured.blas !== blasConfig) {
    return { threads: FALLBACK, source: `measured with another BLAS configuration (${measured.blas})` };
  }
  return { threads: measured.threads, source: `measured fastest when the addon was built (${measured.date.slice(0, 10)})` };
}
