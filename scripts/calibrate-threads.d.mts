// Types for calibrate-threads.mjs, which stays plain JavaScript: it runs during
// `npm install`, before TypeScript is compiled.

/** Best milliseconds per family of products, keyed by thread count. */
export type Timings = Record<string, { mlp: number; conv: number }>;

/** One OpenBLAS core's measurement: null is OpenBLAS's own pick. */
export interface CoreTimings {
  core: string | null;
  times: Timings;
}

/** What threads.json holds. */
export interface Calibration {
  threads: number;
  cpus: number;
  blas: string;
  openblas_core: { name: string; cpu: string; flags: string[] } | null;
  measured_ms: Timings;
  cores_ms: Record<string, Timings>;
  date: string;
}

export const CORES: Record<string, string[]>;
export function cpuFlags(cpuinfo?: string): string[];
export function chooseThreads(times: Timings, margin?: number): number;
export function chooseCore<T extends CoreTimings>(candidates: T[], margin?: number): T;
export function calibrate(addonFile: string, outFile: string): Calibration;
