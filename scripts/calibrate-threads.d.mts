// Types for calibrate-threads.mjs, which stays plain JavaScript: it runs during
// `npm install`, before TypeScript is compiled.

/** Best milliseconds per family of products, keyed by thread count. */
export type Timings = Record<string, { mlp: number; conv: number }>;

/** What threads.json holds. */
export interface Calibration {
  threads: number;
  cpus: number;
  blas: string;
  measured_ms: Timings;
  date: string;
}

export function chooseThreads(times: Timings, margin?: number): number;
export function calibrate(addonFile: string, outFile: string): Calibration;
