import { PlainSweepProgress, type SweepProgress, TtySweepProgress } from '../sweep/sweepProgress.js';
import type { Reporter } from '../train/reporter.js';
import type { TrainingSignals } from '../train/signals.js';
import { PlainReporter, TtyReporter } from './reporters.js';
import { stopRequests, trainingSignals } from './signals.js';

/**
 * What a command needs from the world outside it: where its output goes, how training
 * reports progress, and how training hears of signals. The process supplies the real
 * one (processContext); a test can pass its own to run a command in-process.
 */
export interface CliContext {
  stdout(text: string): void;
  stderr(text: string): void;
  /** A live progress bar on a terminal, plain lines otherwise (SPEC §1). */
  reporter(): Reporter;
  /** dlt sweep's progress: a live line per running trial on a terminal, start and end lines otherwise. */
  sweepProgress(): SweepProgress;
  /** SIGINT/SIGTERM for dlt train and resume (src/cli/signals.ts). */
  trainingSignals(): TrainingSignals;
  /** SIGINT/SIGTERM for dlt sweep and dlt worker: registers what the first one does. */
  stopRequests(): (stop: () => void) => void;
}

export function processContext(): CliContext {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    reporter: () => (process.stdout.isTTY ? new TtyReporter() : new PlainReporter()),
    sweepProgress: () => {
      const write = (text: string) => process.stdout.write(text);
      return process.stdout.isTTY ? new TtySweepProgress(write) : new PlainSweepProgress(write);
    },
    trainingSignals: () => trainingSignals((text) => process.stderr.write(text)),
    stopRequests: () => stopRequests((text) => process.stderr.write(text)),
  };
}
