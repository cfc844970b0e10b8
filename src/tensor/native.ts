import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { nativeBuildDir } from './blasCalibration.js';
import type { Kernels } from './kernels.js';
import { type OpenblasCore, openblasCore } from './openblasCore.js';

/** What the addon (native/dlt_native.c) exports: every kernel, and its BLAS controls. */
export type Addon = Omit<Kernels, 'name' | 'threads' | 'note'> & {
  setThreads(threads: number): void;
  /** The BLAS linked in: its kind, its own description and its current thread count. */
  info(): { blas: string; config: string; threads: number };
  /** GFLOP/s of the BLAS's sgemm at size³, timed inside C (for the benchmark). */
  blasGflops(size: number, reps: number): number;
  /** Chunks of the loops around the products that the addon's second thread has computed (native/work_pool.h). */
  helperChunks(): number;
};

/** The native addon once loaded (and the OpenBLAS core it was asked for), or why it is not available. */
export type NativeStatus = { loaded: true; addon: Addon; core: OpenblasCore } | { loaded: false; reason: string };

let status: NativeStatus | undefined;

/**
 * Loads the addon that `npm install` built (scripts/build-native.mjs), once per process.
 * When it is missing, the reason is the one the build recorded in status.json. OpenBLAS
 * picks its CPU kernels as it loads, with the addon; so OPENBLAS_CORETYPE is set first
 * when the build measured a faster core than OpenBLAS's own pick (openblasCore.ts).
 */
export function nativeStatus(): NativeStatus {
  if (status) return status;
  const file = `${nativeBuildDir}Release/dlt_native.node`;
  if (!existsSync(file)) {
    status = { loaded: false, reason: buildReason() };
    return status;
  }
  try {
    const core = openblasCore();
    if (core.core !== null) process.env.OPENBLAS_CORETYPE = core.core;
    status = { loaded: true, addon: createRequire(import.meta.url)(file) as Addon, core };
  } catch (err) {
    status = { loaded: false, reason: `the native addon does not load: ${(err as Error).message.split('\n')[0]}` };
  }
  return status;
}

function buildReason(): string {
  try {
    const recorded = JSON.parse(readFileSync(`${nativeBuildDir}status.json`, 'utf8')) as { reason?: string };
    if (recorded.reason) return `not built: ${recorded.reason.split('\n')[0]}`;
  } catch {
    // No record: the build never ran (installed with --ignore-scripts, say).
  }
  return 'not built (run npm run build:native)';
}

/** Kernels backed by the addon's CBLAS, with the BLAS set to `threads` threads. */
export function nativeKernels(addon: Addon, threads: number): Kernels {
  addon.setThreads(threads);
  const { setThreads: _setThreads, info: _info, blasGflops: _blasGflops, helperChunks: _helperChunks, ...kernels } = addon;
  return { name: 'native', threads, ...kernels };
}
