import type { Dataset } from '../data/dataset.js';
import type { Split } from '../data/load.js';
import { InputError } from '../errors.js';

/**
 * Samples to classify, read from the user's input by one of the readers in this folder
 * (a CSV file, IDX or CIFAR-10 records, PNG or JPEG images), in the model's input shape.
 */
export interface Samples {
  /**
   * The samples as a split, so the run's Preprocessor turns them into network input
   * exactly as it did the training data. Their labels are zeros and mean nothing.
   */
  split: Split;
  /** What the output calls sample i: sources[i] (an image's path, `file:line`, `file#index`). */
  sources: string[];
  /** What the user should know about the conversion (images resized), one sentence each, for stderr. */
  notes: string[];
}

/**
 * Samples from raw values, as a split of unlabelled data.
 *
 * @param x the samples, [count × features] row-major: uint8 pixels, or CSV numbers.
 * @param sampleShape the shape of one sample, the model's input shape ([C, H, W] or [D]).
 */
export function unlabelledSamples(x: Dataset['x'], sampleShape: readonly number[], sources: string[], source: string, notes: string[] = []): Samples {
  const count = sources.length;
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) indices[i] = i;
  // 'test' is only a name here: the split is read once, in order, without augmentation.
  const data: Dataset = { x, labels: new Int32Array(count), count, sampleShape: [...sampleShape], source };
  return { split: { name: 'test', data, indices }, sources, notes };
}

/**
 * Records read as they are stored (IDX, CIFAR-10) must have the model's input shape:
 * dlt converts and resizes PNG and JPEG images only.
 *
 * @throws InputError naming `file` when the shapes differ.
 */
export function checkRecordShape(got: readonly number[], modelInput: readonly number[], file: string): void {
  if (got.length === modelInput.length && got.every((d, i) => d === modelInput[i])) return;
  throw new InputError(
    `the samples in this file have shape [${got.join(', ')}] but the model takes [${modelInput.join(', ')}] (model.input); ` +
      'give samples of the shape the run was trained on (PNG and JPEG images are converted and resized, IDX and CIFAR-10 records are not)',
    file,
  );
}
