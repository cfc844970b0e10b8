import type { Command } from '@commander-js/extra-typings';
import { defaultParallel } from '../../sweep/localEngine.js';
import type { CliContext } from '../context.js';
import { backendOption, positiveNumber, threadsOption } from '../options.js';

/** `dlt worker --queue redis://HOST:PORT`: run sweep trials from the queue until stopped (src/sweep/worker.ts). */
export function registerWorker(cli: Command, ctx: CliContext): void {
  cli
    .command('worker')
    .description(
      'take sweep trials from a Redis queue (dlt sweep --queue) and run them until stopped; SIGINT hands running trials back after their snapshot',
    )
    .requiredOption('--queue <url>', 'the Redis server the coordinator uses, redis://[:password@]HOST:PORT')
    .option('--parallel <n>', 'trials at once (default: cores / threads, at least 1)', positiveNumber)
    .option(
      '--out <dir>',
      "folder under which trials' run directories are written: the coordinator's --out, on shared storage across machines",
      'runs',
    )
    .option(
      '--stalled-after <seconds>',
      'how long a trial stays with a worker that stopped answering before another worker takes it',
      positiveNumber,
      30,
    )
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (opts) => {
      const { runWorker } = await import('../../sweep/worker.js'); // BullMQ and ioredis, for this command only
      await runWorker({
        queue: opts.queue,
        parallel: opts.parallel ?? defaultParallel(opts.backend ?? process.env.DLT_BACKEND, opts.threads),
        outDir: opts.out,
        backend: opts.backend,
        threads: opts.threads,
        stalledAfterMs: opts.stalledAfter * 1000,
        log: (line) => ctx.stdout(`${line}\n`),
        onStopRequest: ctx.stopRequests(),
      });
    });
}
