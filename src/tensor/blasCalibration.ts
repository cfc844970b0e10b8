import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Where `npm install` builds the addon and records how it went (status.json, threads.json). */
export const nativeBuildDir = fileURLToPath(new URL('../../native/build/', import.meta.url));

/** What scripts/calibrate-threads.mjs writes to native/build/threads.json (the fields read here). */
const calibrationSchema = z.object({
  threads: z.number().int().min(1).max(1024),
  cpus: z.number().int().min(1),
  blas: z.string(),
  /** The OpenBLAS core measured fastest, for the CPU (model and flags) it was measured on; null: OpenBLAS's own pick. */
  openblas_core: z
    .object({ name: z.string().regex(/^[A-Za-z0-9]+$/), cpu: z.string(), flags: z.array(z.string()) })
    .nullable()
    .default(null),
  date: z.string(),
});

export type BlasCalibration = z.infer<typeof calibrationSchema>;

/**
 * The measurement taken when the addon was built on this machine, or why there is none
 * usable: missing (never built, or built without the measurement) or unreadable.
 */
export function readCalibration(file = `${nativeBuildDir}threads.json`): { record: BlasCalibration } | { reason: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { reason: 'not measured (npm run build:native measures it)' };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = calibrationSchema.safeParse(json);
  if (!parsed.success) return { reason: `${file} is not a thread calibration; npm run build:native measures again` };
  return { record: parsed.data };
}
