import type { Command } from '@commander-js/extra-typings';
import { loadConfig } from '../../config/load.js';
import { selectKernels } from '../../tensor/backend.js';
import { train } from '../../train/train.js';
import type { CliContext } from '../context.js';
import { backendOption, setOption, threadsOption, wholeNumber } from '../options.js';

/** `dlt train <config.yaml>`: validate the config, then train a new run; prints the run directory first. */
export function registerTrain(cli: Command, ctx: CliContext): void {
  cli
    .command('train')
    .description('train the model a config describes; prints the run directory first')
    .argument('<config>', 'experiment config (YAML)')
    .option('--out <dir>', 'folder in which the run directory is created', 'runs')
    .addOption(setOption('override a config key by dotted path, e.g. optimizer.lr=0.01 (repeatable)'))
    .option('--seed <n>', 'override the config seed', wholeNumber)
    .option('--tensorboard', 'write a TensorBoard event file in the run directory (training.tensorboard: true)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (configFile, opts) => {
      const signals = ctx.trainingSignals(); // first: a signal while the config is read must not end dlt mid-way
      // --seed is --set seed=N and --tensorboard --set training.tensorboard=true, validated like the file.
      const overrides = [
        ...opts.set,
        ...(opts.seed !== undefined ? [`seed=${opts.seed}`] : []),
        ...(opts.tensorboard ? ['training.tensorboard=true'] : []),
      ];
      const config = loadConfig(configFile, overrides);
      const kernels = selectKernels(opts.backend, opts.threads);
      const summary = await train(config, { outDir: opts.out, kernels, reporter: ctx.reporter(), signals });
      ctx.stdout(`done in ${summary.wall_seconds.toFixed(1)}s: ${summary.run_dir}\n`);
    });
}
