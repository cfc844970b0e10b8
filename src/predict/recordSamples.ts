import { loadCifar10 } from '../data/cifar10.js';
import { readIdx } from '../data/idx.js';
import { InputError } from '../errors.js';
import { checkRecordShape, type Samples, unlabelledSamples } from './samples.js';

/**
 * Images stored as records of raw bytes, read as they are: an IDX images file (MNIST's
 * format, raw or gzipped) or a CIFAR-10 batch. Sample i is called `<file>#<i>`, 0-based.
 * The records must have the model's input shape; CIFAR-10's labels are not used.
 */

/** The role readIdx and loadCifar10 name in their messages. */
const ROLE = 'input';

/** An IDX images file, [N, H, W] (one channel) or [N, C, H, W]. */
export function readIdxSamples(file: string, modelInput: readonly number[]): Samples {
  const { dims, data } = readIdx(file, ROLE);
  if (dims.length !== 3 && dims.length !== 4) {
    const labels = dims.length === 1 ? ', like a labels file; give the images file (e.g. t10k-images-idx3-ubyte.gz)' : '';
    throw new InputError(`this IDX file has dimensions [${dims.join(', ')}], not images [N, H, W] or [N, C, H, W]${labels}`, file);
  }
  const [count, ...rest] = dims;
  const sampleShape = rest.length === 2 ? [1, ...rest] : rest;
  checkRecordShape(sampleShape, modelInput, file);
  return unlabelledSamples(data, sampleShape, recordSources(file, count!), file);
}

/** One CIFAR-10 binary batch (.bin): 3073-byte records, [3, 32, 32] each after the label byte. */
export function readCifar10Samples(file: string, modelInput: readonly number[]): Samples {
  const batch = loadCifar10(file, 'test', ROLE);
  checkRecordShape(batch.sampleShape, modelInput, file);
  return unlabelledSamples(batch.x, batch.sampleShape, recordSources(file, batch.count), file);
}

function recordSources(file: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${file}#${i}`);
}
