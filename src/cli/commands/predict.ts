import { loadTrainedModel } from '../../model/trainedModel.js';
import { readPredictInput } from '../../predict/predictInput.js';
import { predict } from '../../predict/predictions.js';
import { predictionTable, tableCsv, tableJson } from '../../predict/predictionTable.js';
import { type BackendChoice, selectKernels } from '../../tensor/backend.js';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import type { CliContext } from '../context.js';
import { readTargetSnapshot } from '../snapshotTarget.js';

/** dlt predict's options, as src/cli/program.ts declares them. */
export interface PredictOptions {
  out?: string;
  json?: true;
  top?: number;
  backend?: BackendChoice;
  threads?: number;
}

/**
 * `dlt predict <run-dir | snapshot> <input>`: classify the samples of `input` (a CSV
 * file, IDX or CIFAR-10 records, a PNG or JPEG image, a folder of images) with a run's
 * best (else latest) snapshot, and write one row per sample, as CSV or (--json) a JSON
 * array, to stdout or --out. Everything is read and computed before anything is
 * written, and --out is replaced atomically, so a failing predict leaves no file and
 * changes none. Notes (images resized) go to stderr.
 */
export async function predictCommand(
  target: string,
  input: string,
  options: PredictOptions,
  ctx: Pick<CliContext, 'stdout' | 'stderr'>,
): Promise<void> {
  const snapshot = readTargetSnapshot(target, 'best');
  const kernels = selectKernels(options.backend, options.threads);
  const samples = await readPredictInput(input, snapshot.config);
  const model = loadTrainedModel(snapshot, kernels);
  const predictions = predict(model.network, model.preprocessor, samples);
  const table = predictionTable(predictions, samples.sources, model.classNames, options.top);
  const text = options.json ? tableJson(table) : tableCsv(table);
  for (const note of samples.notes) ctx.stderr(`note: ${note}\n`);
  if (options.out === undefined) ctx.stdout(text);
  else writeFileAtomic(options.out, text);
}
