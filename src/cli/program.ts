import { Command, Option } from '@commander-js/extra-typings';
import { VERSION } from '../version.js';
import { registerEval } from './commands/eval.js';
import { registerGradcheck } from './commands/gradcheck.js';
import { registerInspect } from './commands/inspect.js';
import { registerResume } from './commands/resume.js';
import { registerSchema } from './commands/schema.js';
import { registerSweep } from './commands/sweep.js';
import { registerTrain } from './commands/train.js';
import { registerWorker } from './commands/worker.js';
import type { CliContext } from './context.js';
import { backendOption, jsonOption, positiveNumber, threadsOption } from './options.js';

/**
 * The command line: every command, its arguments and options, declared once. Parsing
 * throws (CommanderError) instead of exiting, and writes through `ctx`, so that it can
 * be run and tested in-process; src/cli/main.ts turns errors into exit codes.
 */
export function program(ctx: CliContext): Command {
  const cli = new Command('dlt')
    .description('Train neural networks from YAML experiment configs.')
    .version(VERSION)
    .option('--no-color', 'plain output without colours (also: NO_COLOR=1)')
    .exitOverride()
    .configureOutput({ writeOut: ctx.stdout, writeErr: ctx.stderr })
    .showHelpAfterError('(run dlt --help for usage)');
  registerTrain(cli, ctx);
  registerResume(cli, ctx);
  registerEval(cli, ctx);
  registerGradcheck(cli, ctx);
  registerSchema(cli, ctx);
  registerInspect(cli, ctx);
  registerSweep(cli, ctx);
  registerWorker(cli, ctx);

  // dlt plot and dlt data load their modules on use: the chart and download code is
  // needed by no other command, so every other command starts without it.
  cli
    .command('plot')
    .description(
      "draw a run's learning curves (loss, validation accuracy, learning rate), or every trial of a sweep, as an SVG and an offline HTML page",
    )
    .argument('<dir>', 'run directory created by dlt train, or sweep directory created by dlt sweep')
    .option('--out <file-or-dir>', 'x.svg or x.html (the other is written beside it), or a folder (default: the run or sweep directory)')
    .action(async (dir, opts) => {
      const { plotCommand } = await import('./commands/plot.js');
      const result = plotCommand(dir, opts);
      for (const warning of result.warnings) ctx.stderr(`warning: ${warning}\n`);
      ctx.stdout(`${result.svgFile}\n${result.htmlFile}\n`);
    });

  // dlt export and dlt predict load their modules on use, like plot: the ONNX encoder,
  // the generated Python and the image decoder serve no other command.
  cli
    .command('export')
    .description('write a trained model for other tools: ONNX (onnxruntime, browsers, phones) or a PyTorch module (.py)')
    .argument('<run-dir|snapshot>', 'run directory (its best, else latest, snapshot) or .safetensors snapshot')
    .addOption(new Option('--format <format>', 'onnx or torch').choices(['onnx', 'torch'] as const).default('onnx' as const))
    .option('--out <file>', 'where to write (default: model.onnx or model.py in the run directory, or beside the snapshot)')
    .option('--opset <n>', 'ONNX opset version, 13 to 21', positiveNumber, 17)
    .action(async (target, opts) => {
      const { exportCommand } = await import('./commands/export.js');
      ctx.stdout(`${exportCommand(target, opts)}\n`);
    });
  cli
    .command('predict')
    .description('classify new samples: a CSV file, an IDX images file, a CIFAR-10 .bin file, a PNG or JPEG image, or a folder of images')
    .argument('<run-dir|snapshot>', 'run directory (its best, else latest, snapshot) or .safetensors snapshot')
    .argument('<input>', 'the samples to classify')
    .option('--out <file>', 'write the predictions there instead of to stdout')
    .addOption(new Option('--json', 'print the predictions as a JSON array of objects, keyed as the CSV columns'))
    .option('--top <k>', 'list the k most probable classes of each sample instead of every class', positiveNumber)
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (target, input, opts) => {
      const { predictCommand } = await import('./commands/predict.js');
      await predictCommand(target, input, opts, ctx);
    });

  cli
    .command('report')
    .description(
      'what a trained network learned, as one offline page: layers and receptive fields, filters, the patches each conv unit responds to, confusion, mistakes, calibration',
    )
    .argument('<run-dir>', 'run directory created by dlt train')
    .option('--out <file>', 'the page to write (default: report.html in the run directory); --json writes the .json beside it')
    .addOption(new Option('--split <name>', 'which split to look at').choices(['test', 'val'] as const).default('test' as const))
    .option('--top <k>', 'patches shown per conv unit; 3·k mistakes', positiveNumber, 8)
    .addOption(new Option('--json', 'also write report.json with the numbers (per-class metrics, ECE, top patches per unit)'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .action(async (runDir, opts) => {
      const { reportCommand } = await import('./commands/report.js');
      const result = await reportCommand(runDir, opts);
      for (const warning of result.warnings) ctx.stderr(`warning: ${warning}\n`);
      ctx.stdout(`${result.htmlFile}\n${result.jsonFile ? `${result.jsonFile}\n` : ''}`);
    });

  const data = cli.command('data').description('named datasets (mnist, fashion-mnist, cifar10): fetch them into the cache, list what is present');
  data
    .command('fetch')
    .description('download a named dataset into the cache ($DLT_DATA, else ~/.cache/dlt), verifying the checksums its authors publish')
    .argument('<name>', 'mnist, fashion-mnist or cifar10')
    .action(async (name) => {
      const { dataFetchCommand, downloadReporter, fetchSummaryLine } = await import('./commands/data.js');
      const summary = await dataFetchCommand(name, { reporter: downloadReporter() });
      ctx.stdout(`${fetchSummaryLine(summary)}\n`);
    });
  data
    .command('list')
    .description('show which named datasets are present, and where')
    .addOption(jsonOption())
    .action(async (opts) => {
      const { dataListCommand, dataListJson, dataListTable } = await import('./commands/data.js');
      const result = dataListCommand();
      ctx.stdout(`${opts.json ? JSON.stringify(dataListJson(result)) : dataListTable(result)}\n`);
    });
  return cli;
}
