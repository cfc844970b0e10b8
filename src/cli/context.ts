import type { Reporter } from '../train/reporter.js';
import type { TrainingSignals } from '../train/signals.js';
import { PlainReporter, TtyReporter } from './reporters.js';
import { trainingSignals } from './signals.js';

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
  /** SIGINT/SIGTERM for dlt train and resume (src/cli/signals.ts). */
  trainingSignals(): TrainingSignals;
}

export function processContext(): CliContext {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    reporter: () => (process.stdout.isTTY ? new TtyReporter() : new PlainReporter()),
    trainingSignals: () => trainingSignals((text) => process.stderr.write(text)),
  };
}
