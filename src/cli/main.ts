import { CommanderError } from '@commander-js/extra-typings';
import chalk from 'chalk';
import { DltError, Interrupted } from '../errors.js';
import { errnoCode } from '../util/ioError.js';
import { type CliContext, processContext } from './context.js';
import { program } from './program.js';
import { handleSignals } from './signals.js';

/**
 * Run dlt with `argv` (as process.argv: node, script, arguments...) and return the exit
 * code. This is the only place that turns an error into a message and a code (SPEC §2):
 * a DltError carries its own code (2 bad input, 1 the run failed, 130 interrupted) and
 * prints one message without a stack (DLT_DEBUG=1 adds it); anything else is a bug.
 */
export async function main(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  if (process.env.NO_COLOR !== undefined || argv.includes('--no-color')) chalk.level = 0;
  try {
    await program(ctx).parseAsync(argv);
    return 0;
  } catch (err) {
    return report(err, ctx);
  }
}

/** The process's entry point (bin/dlt.js): main with the process's streams and signals. */
export async function runCli(argv: readonly string[], ctx: CliContext = processContext()): Promise<void> {
  // A reader that goes away (`dlt train ... | head -1`) must not kill a training run:
  // drop further output instead.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  handleSignals();
  process.exitCode = await main(argv, ctx);
}

/** Print an error the way its kind deserves and return the exit code. */
function report(err: unknown, ctx: CliContext): number {
  // Commander has printed its message already; help and --version exit 0.
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const debug = process.env.DLT_DEBUG === '1';
  if (err instanceof DltError) {
    ctx.stderr(err instanceof Interrupted ? `${err.message}\n` : `${chalk.red('error:')} ${err.format()}\n`);
    if (debug) ctx.stderr(`${err.stack}\n`);
    return err.exitCode;
  }
  // A file-system error that no command put into words: Node's message names the call
  // and the path, which is as much as we know.
  if (errnoCode(err) !== undefined && !debug) {
    ctx.stderr(`${chalk.red('error:')} ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  // Anything else is a bug in dlt: show all we know.
  const message = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error ? (err.stack ?? '') : '';
  ctx.stderr(`${chalk.red('error:')} ${message}\n${stack}\nThis looks like a bug in dlt; please report it with the command you ran.\n`);
  return 1;
}
