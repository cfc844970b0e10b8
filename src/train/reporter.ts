import type { EpochRecord } from './metrics.js';

/** How a training run talks to its user. The CLI picks a TTY or a plain-log implementation. */
export interface Reporter {
  /** The run directory, first thing printed (SPEC §1). */
  runDir(dir: string): void;
  info(message: string): void;
  warn(message: string): void;
  epochStart(epoch: number, epochs: number, steps: number): void;
  /** After each batch of an epoch (`step` counts every batch of the run); the reporter throttles its own output. */
  progress(stepInEpoch: number, lossAvg: number, lr: number, samplesPerSecond: number, step: number): void;
  epochEnd(record: EpochRecord, epochs: number): void;
}
