import chalk from 'chalk';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { InputError, Interrupted, RunError } from '../errors.js';
import { CHECK_ALL_UP_TO } from '../gradcheck/gradcheck.js';
import { DEFAULT_THREADS } from '../tensor/backend.js';
import type { StopSignal } from '../train/run.js';
import { VERSION } from '../version.js';
import { evalCommand, evalJson, evalTable } from './commands/eval.js';
import { assertPassed, GRADCHECK_DEFAULTS, gradcheckCommand, gradcheckJson, gradcheckTable } from './commands/gradcheck.js';
import { inspectCommand, inspectJson, inspectTable } from './commands/inspect.js';
import { schemaCommand } from './commands/schema.js';
import { resumeCommand, trainCommand } from './commands/train.js';
import { PlainReporter, TtyReporter } from './reporters.js';

/**
 * The entry point: parses arguments, runs a command, and is the only place that turns
 * an error into an exit code (SPEC §2): 0 success, 1 the run failed, 2 bad input.
 */
export async function main(argv: readonly string[]): Promise<void> {
  if (process.env.NO_COLOR !== undefined || argv.includes('--no-color')) chalk.level = 0;
  // A reader that goes away (`dlt train ... | head -1`) must not kill a training run:
  // drop further output instead.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  try {
    await program().parseAsync(argv);
  } catch (err) {
    process.exitCode = report(err);
  }
}

function program(): Command {
  const cli = new Command('dlt')
    .description('Train neural networks from YAML experiment configs.')
    .version(VERSION)
    .option('--no-color', 'plain output without colours (also: NO_COLOR=1)')
    .exitOverride()
    .showHelpAfterError('(run dlt --help for usage)');

  cli
    .command('train')
    .description('train the model a config describes; prints the run directory first')
    .argument('<config>', 'experiment config (YAML)')
    .option('--out <dir>', 'folder in which the run directory is created', 'runs')
    .option('--set <key=value>', 'override a config key by dotted path, e.g. optimizer.lr=0.01 (repeatable)', collect, [])
    .option('--seed <n>', 'override the config seed', wholeNumber)
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (config: string, opts: { out: string; set: string[]; seed?: number; backend?: string; threads?: number }) => {
      const summary = await trainCommand(config, { ...opts, reporter: reporter(), stop: stopOnSignals() });
      process.stdout.write(`done in ${summary.wall_seconds.toFixed(1)}s: ${summary.run_dir}\n`);
    });

  cli
    .command('resume')
    .description('continue a run from its newest intact snapshot, in the same run directory')
    .argument('<run-dir>', 'run directory created by dlt train')
    .option('--epochs <n>', 'train until this many epochs in all', positiveNumber)
    .option('--set <key=value>', 'change a config key, e.g. optimizer.lr=0.001 (repeatable; printed as a diff)', collect, [])
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (runDir: string, opts: { epochs?: number; set: string[]; backend?: string; threads?: number }) => {
      const summary = await resumeCommand(runDir, { ...opts, reporter: reporter(), stop: stopOnSignals() });
      process.stdout.write(`done in ${summary.wall_seconds.toFixed(1)}s: ${summary.run_dir}\n`);
    });

  cli
    .command('eval')
    .description("evaluate a run's best (else latest) snapshot, or a given snapshot file")
    .argument('<run-dir|snapshot>', 'run directory or .safetensors snapshot')
    .addOption(new Option('--split <name>', 'which split to evaluate').choices(['test', 'val', 'train']).default('test'))
    .option('--json', 'print one JSON object')
    .addOption(backendOption())
    .addOption(threadsOption())
    .action((target: string, opts: { split: string; json?: boolean; backend?: string; threads?: number }) => {
      const result = evalCommand(target, opts);
      process.stdout.write(`${opts.json ? JSON.stringify(evalJson(result)) : evalTable(result)}\n`);
    });

  cli
    .command('gradcheck')
    .description("compare the model's analytic gradients with centred differences, in float64")
    .argument('<model-or-config>', 'a full config, or a YAML file with model: (and optionally loss:, regularization:)')
    .option('--batch <n>', 'random samples to check on', positiveNumber, GRADCHECK_DEFAULTS.batch)
    .option('--seed <n>', "seed for the model, data, parameter point and entries (default: the file's seed)", wholeNumber)
    .addOption(new Option('--delta <d>', 'step of the centred differences').argParser(positiveReal).default(GRADCHECK_DEFAULTS.delta, '1e-6'))
    .option(
      '--samples <k>',
      `entries per row checked in tensors over ${CHECK_ALL_UP_TO} entries (0: every entry)`,
      wholeNumber,
      GRADCHECK_DEFAULTS.samples,
    )
    .option('--json', 'print one JSON object')
    .action((file: string, opts: { batch: number; seed?: number; delta: number; samples: number; json?: boolean }) => {
      const result = gradcheckCommand(file, opts);
      process.stdout.write(`${opts.json ? JSON.stringify(gradcheckJson(result)) : gradcheckTable(result)}\n`);
      assertPassed(result);
    });

  cli
    .command('schema')
    .description("print the config's JSON Schema (for editors: yaml-language-server)")
    .action(() => {
      process.stdout.write(schemaCommand());
    });

  cli
    .command('inspect')
    .description("show a snapshot's layers, shapes, parameter counts, optimiser slots and training state")
    .argument('<snapshot|run-dir>', '.safetensors snapshot, or a run directory (its latest snapshot, else best)')
    .option('--json', 'print one JSON object')
    .action((target: string, opts: { json?: boolean }) => {
      const result = inspectCommand(target);
      process.stdout.write(`${opts.json ? JSON.stringify(inspectJson(result)) : inspectTable(result)}\n`);
    });

  cli
    .command('plot')
    .description("draw a run's learning curves (loss, validation accuracy, learning rate) as an SVG and an offline HTML page")
    .argument('<run-dir>', 'run directory created by dlt train')
    .option('--out <file-or-dir>', 'x.svg or x.html (the other is written beside it), or a folder (default: the run directory)')
    .action(async (runDir: string, opts: { out?: string }) => {
      // Loaded on use, like `data` below: the chart and download code is needed by no
      // other command, so every other command starts without it.
      const { plotCommand } = await import('./commands/plot.js');
      const result = plotCommand(runDir, opts);
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(`${result.svgFile}\n${result.htmlFile}\n`);
    });

  const data = cli.command('data').description('named datasets (mnist, fashion-mnist, cifar10): fetch them into the cache, list what is present');
  data
    .command('fetch')
    .description('download a named dataset into the cache ($DLT_DATA, else ~/.cache/dlt), verifying the checksums its authors publish')
    .argument('<name>', 'mnist, fashion-mnist or cifar10')
    .action(async (name: string) => {
      const { dataFetchCommand, downloadReporter, fetchSummaryLine } = await import('./commands/data.js');
      const summary = await dataFetchCommand(name, { reporter: downloadReporter() });
      process.stdout.write(`${fetchSummaryLine(summary)}\n`);
    });
  data
    .command('list')
    .description('show which named datasets are present, and where')
    .option('--json', 'print one JSON object')
    .action(async (opts: { json?: boolean }) => {
      const { dataListCommand, dataListJson, dataListTable } = await import('./commands/data.js');
      const result = dataListCommand();
      process.stdout.write(`${opts.json ? JSON.stringify(dataListJson(result)) : dataListTable(result)}\n`);
    });

  return cli;
}

function backendOption(): Option {
  return new Option('--backend <name>', 'compute backend: native when built, else js (also: DLT_BACKEND)').choices(['auto', 'js', 'native']);
}

function threadsOption(): Option {
  return new Option('--threads <n>', `threads for the native backend's BLAS (default ${DEFAULT_THREADS}; also: DLT_THREADS)`).argParser(
    positiveNumber,
  );
}

function reporter() {
  return process.stdout.isTTY ? new TtyReporter() : new PlainReporter();
}

/**
 * SIGINT/SIGTERM: the first asks training to finish its batch, write a snapshot and exit
 * 130; a second aborts at once (snapshots are written atomically, so the previous one
 * stays intact).
 */
function stopOnSignals(): StopSignal {
  const stop: StopSignal = { requested: false };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.requested) {
      process.stderr.write(`\n${signal} again: stopping now, without a new snapshot\n`);
      process.exit(130);
    }
    stop.requested = true;
    process.stderr.write(`\n${signal}: finishing the current batch and writing a snapshot (send it again to stop at once)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return stop;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1.');
  return n;
}

function positiveReal(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a number > 0, e.g. 1e-6.');
  return x;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0.');
  return n;
}

/** Print an error the way its kind deserves and return the exit code. */
function report(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has printed its message already; help and --version exit 0.
    return err.exitCode === 0 ? 0 : 2;
  }
  const debug = process.env.DLT_DEBUG === '1';
  if (err instanceof InputError) {
    process.stderr.write(`${chalk.red('error:')} ${err.format()}\n`);
    if (debug) process.stderr.write(`${err.stack}\n`);
    return 2;
  }
  if (err instanceof Interrupted) {
    process.stderr.write(`${err.message}\n`);
    return 130;
  }
  if (err instanceof RunError) {
    process.stderr.write(`${chalk.red('error:')} ${err.message}\n`);
    if (debug) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
  // Anything else is a bug in dlt, or an I/O failure: show all we know.
  const e = err as Error;
  process.stderr.write(`${chalk.red('error:')} ${e?.message ?? String(err)}\n`);
  const code = (e as NodeJS.ErrnoException)?.code;
  if (!code || debug) process.stderr.write(`${e?.stack ?? ''}\nThis looks like a bug in dlt; please report it with the command you ran.\n`);
  return 1;
}
