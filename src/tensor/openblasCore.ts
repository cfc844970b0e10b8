import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { readCalibration } from './blasCalibration.js';

/** Which OpenBLAS CPU kernels the native backend asks for, and why. */
export interface OpenblasCore {
  /** The value given to OPENBLAS_CORETYPE, or null to leave OpenBLAS its own pick. */
  core: string | null;
  source: string;
}

/**
 * OPENBLAS_CORETYPE for this process, decided before the addon (and with it OpenBLAS)
 * loads: the core measured fastest when the addon was built (scripts/calibrate-threads.mjs
 * records one only when it beat OpenBLAS's own pick), provided that
 * - OPENBLAS_CORETYPE is not set already: a set value is always left as it is;
 * - the machine is the one it was measured on (its CPU count and model);
 * - the CPU has every instruction-set flag that core's kernels need, so that a copied
 *   install or a VM with fewer features cannot be sent into kernels it cannot run.
 */
export function openblasCore(env: Record<string, string | undefined> = process.env, file?: string, cpuinfo = '/proc/cpuinfo'): OpenblasCore {
  if (env.OPENBLAS_CORETYPE !== undefined) return { core: null, source: `OPENBLAS_CORETYPE=${env.OPENBLAS_CORETYPE} is set` };
  const read = readCalibration(file);
  if ('reason' in read) return { core: null, source: `OpenBLAS's own pick (${read.reason})` };
  const measured = read.record.openblas_core;
  if (measured === null) return { core: null, source: "OpenBLAS's own pick, measured fastest when the addon was built" };
  const model = cpus()[0]?.model ?? '';
  if (read.record.cpus !== availableParallelism() || measured.cpu !== model) {
    return { core: null, source: `OpenBLAS's own pick (${measured.name} was measured on another CPU)` };
  }
  const missing = measured.flags.filter((flag) => !cpuFlags(cpuinfo).has(flag));
  if (missing.length > 0) return { core: null, source: `OpenBLAS's own pick (this CPU lacks ${missing.join(', ')} for ${measured.name})` };
  return { core: measured.name, source: `measured faster than OpenBLAS's own pick when the addon was built (${read.record.date.slice(0, 10)})` };
}

/** The instruction-set flags /proc/cpuinfo lists for the first CPU (none where it cannot be read). */
function cpuFlags(cpuinfo: string): Set<string> {
  let text = '';
  try {
    text = readFileSync(cpuinfo, 'utf8');
  } catch {
    // Not Linux: no flags, so no core is forced.
  }
  const line = /^flags\s*:(.*)$/m.exec(text);
  return new Set(line ? line[1]!.trim().split(/\s+/) : []);
}
