import type { Command } from '@commander-js/extra-typings';
import { selectKernels } from '../../tensor/backend.js';
import { resume } from '../../train/resume.js';
import type { CliContext } from '../context.js';
import { backendOption, positiveNumber, setOption, threadsOption } from '../options.js';

/** `dlt resume <run-dir>`: continue a run from its newest intact snapshot, in the same run directory. */
export function registerResume(cli: Command, ctx: CliContext): void {
  cli
    .command('resume')
    .description('continue a run from its newest intact snapshot, in the same run directory')
    .argument('<run-dir>', 'run directory created by dlt train')
    .option('--epochs <n>', 'train until this many epochs in all', positiveNumber)
    .addOption(setOption('change a config key, e.g. optimizer.lr=0.001 (repeatable; printed as a diff)'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (runDir, opts) => {
      const signals = ctx.trainingSignals();
      const kernels = selectKernels(opts.backend, opts.threads);
      const summary = await resume(runDir, {
        epochs: opts.epochs,
        overrides: opts.set,
        kernels,
        reporter: ctx.reporter(),
        signals,
      });
      ctx.stdout(`done in ${summary.wall_seconds.toFixed(1)}s: ${summary.run_dir}\n`);
    });
}
