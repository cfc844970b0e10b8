import { availableParallelism } from 'node:os';
import { readCalibration } from './blasCalibration.js';

/** The count used when nothing was measured: two, or one on a single-CPU machine. */
const FALLBACK = Math.min(2, availableParallelism());

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
export function defaultThreads(blasConfig: string | undefined, file?: string): ThreadDefault {
  const read = readCalibration(file);
  if ('reason' in read) return { threads: FALLBACK, source: read.reason };
  const measured = read.record;
  if (measured.cpus !== availableParallelism()) {
    return { threads: FALLBACK, source: `measured with ${measured.cpus} CPUs, not this machine's ${availableParallelism()}` };
  }
  if (blasConfig !== undefined && measured.blas !== blasConfig) {
    return { threads: FALLBACK, source: `measured with another BLAS configuration (${measured.blas})` };
  }
  return { threads: measured.threads, source: `measured fastest when the addon was built (${measured.date.slice(0, 10)})` };
}
