import { loadConfig } from '../../config/load.js';
import { selectKernels } from '../../tensor/backend.js';
import type { Reporter } from '../../train/reporter.js';
import { train, type RunSummary } from '../../train/trainer.js';

export interface TrainCommandOptions {
  out: string;
  set: string[];
  seed?: number;
  backend?: string;
  reporter: Reporter;
}

/** `dlt train <config.yaml>`: validate the config, then train a new run. */
export async function trainCommand(configFile: string, options: TrainCommandOptions): Promise<RunSummary> {
  // --seed is --set seed=N, validated like the file.
  const overrides = options.seed !== undefined ? [...options.set, `seed=${options.seed}`] : options.set;
  const config = loadConfig(configFile, overrides);
  const kernels = selectKernels(options.backend);
  return train(config, { outDir: options.out, kernels, reporter: options.reporter });
}
