import { loadConfig } from '../../config/load.js';
import { selectKernels } from '../../tensor/backend.js';
import type { Reporter } from '../../train/reporter.js';
import type { StopSignal } from '../../train/run.js';
import { type RunSummary, resume, train } from '../../train/trainer.js';

export interface TrainCommandOptions {
  out: string;
  set: string[];
  seed?: number;
  backend?: string;
  threads?: number;
  reporter: Reporter;
  stop: StopSignal;
}

/** `dlt train <config.yaml>`: validate the config, then train a new run. */
export async function trainCommand(configFile: string, options: TrainCommandOptions): Promise<RunSummary> {
  // --seed is --set seed=N, validated like the file.
  const overrides = options.seed !== undefined ? [...options.set, `seed=${options.seed}`] : options.set;
  const config = loadConfig(configFile, overrides);
  const kernels = selectKernels(options.backend, options.threads);
  return train(config, { outDir: options.out, kernels, reporter: options.reporter, stop: options.stop, interruptAtStep: interruptAtStep() });
}

export interface ResumeCommandOptions {
  epochs?: number;
  set: string[];
  backend?: string;
  threads?: number;
  reporter: Reporter;
  stop: StopSignal;
}

/** `dlt resume <run-dir>`: continue a run from its newest intact snapshot. */
export async function resumeCommand(runDir: string, options: ResumeCommandOptions): Promise<RunSummary> {
  return resume(runDir, {
    epochs: options.epochs,
    overrides: options.set,
    kernels: selectKernels(options.backend, options.threads),
    reporter: options.reporter,
    stop: options.stop,
    interruptAtStep: interruptAtStep(),
  });
}

/**
 * DLT_INTERRUPT_AT_STEP=k makes training behave as if SIGINT arrived during step k:
 * it finishes the step, writes the snapshot and exits 130. For tests of exact resume
 * at a chosen position; not meant for everyday use.
 */
function interruptAtStep(): number | undefined {
  const v = process.env.DLT_INTERRUPT_AT_STEP;
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}
