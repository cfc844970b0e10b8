import path from 'node:path';
import type { Command } from '@commander-js/extra-typings';
import { RunError } from '../../errors.js';
import { defaultParallel, LocalEngine } from '../../sweep/localEngine.js';
import { runSweep } from '../../sweep/sweep.js';
import { sweepStatus } from '../../sweep/sweepStatus.js';
import { runSweepTrial } from '../../sweep/sweepTrial.js';
import { trialName } from '../../sweep/trials.js';
import { selectKernels } from '../../tensor/backend.js';
import type { CliContext } from '../context.js';
import { backendOption, jsonOption, positiveNumber, threadsOption } from '../options.js';

/**
 * `dlt sweep <sweep.yaml>`: run a hyper-parameter sweep (src/sweep/sweep.ts), on this
 * machine's cores or, with --queue, through a Redis queue that `dlt worker`s take trials
 * from; `dlt sweep status <sweep-dir>`: its leaderboard, finished or not.
 */
export function registerSweep(cli: Command, ctx: CliContext): void {
  const sweep = cli
    .command('sweep')
    .description('run a hyper-parameter sweep: every trial of a sweep file, here or through a Redis queue; prints the sweep directory first')
    .argument('<sweep>', 'sweep file (YAML): base config, parameters, method, metric')
    .option('--out <dir>', 'folder in which the sweep directory is created', 'runs')
    .option('--parallel <n>', "trials at once on this machine (default: the sweep file's parallel, else cores / threads)", positiveNumber)
    .option('--queue <url>', 'run the trials through this Redis server (redis://HOST:PORT) and the dlt workers that serve it')
    .option('--resume <sweep-dir>', 'continue this sweep directory: keep finished trials, resume interrupted ones, run the rest')
    .option('--create-only', 'create the sweep directory with its trials queued and run none (for dlt sweep trial)')
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (file, opts) => {
      const progress = ctx.sweepProgress();
      // The queue is reached first: an unreachable one is bad input (exit 2), before anything is created.
      // BullMQ and ioredis are loaded only then: every other command starts without them.
      const queue = opts.queue === undefined ? undefined : await (await import('../../sweep/queueEngine.js')).connectQueueEngine(opts.queue);
      try {
        await runSweep(file, {
          outDir: opts.out,
          resumeDir: opts.resume,
          createOnly: opts.createOnly,
          progress,
          onStopRequest: ctx.stopRequests(),
          engine: (dir, loaded) =>
            queue
              ? queue.engine(dir.name)
              : new LocalEngine({
                  outDir: path.dirname(dir.root),
                  parallel: opts.parallel ?? loaded.spec.parallel ?? defaultParallel(opts.backend ?? process.env.DLT_BACKEND, opts.threads),
                  backend: opts.backend,
                  threads: opts.threads,
                }),
        });
      } finally {
        await queue?.close();
      }
    });

  sweep
    .command('status')
    .description('the leaderboard of a sweep, finished or not')
    .argument('<sweep-dir>', 'sweep directory created by dlt sweep')
    .addOption(jsonOption())
    .action((dir, opts) => {
      const { status, table } = sweepStatus(dir);
      ctx.stdout(opts.json ? `${JSON.stringify(status)}\n` : table);
    });

  sweep
    .command('trial')
    .description('run (or resume) one trial of a sweep directory in this process, for schedulers that start a process per trial')
    .argument('<sweep-dir>', 'sweep directory created by dlt sweep')
    .argument('<n>', 'trial number, from 1', positiveNumber)
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (dir, n, _opts, command) => {
      const signals = ctx.trainingSignals();
      // Commander gives `--backend` after `sweep trial` to `sweep`, which declares it too.
      const { backend, threads } = command.optsWithGlobals();
      const kernels = selectKernels(backend, threads);
      const outcome = await runSweepTrial(dir, n, { kernels, reporter: ctx.reporter(), signals });
      if (outcome.status === 'failed') throw new RunError(`${trialName(n)} failed: ${outcome.error ?? ''}`);
      ctx.stdout(`${trialName(n)} finished: ${outcome.metric ?? '-'} (epoch ${outcome.epoch ?? '-'}), ${outcome.run_dir}\n`);
    });
}
