import type { Config } from '../config/schema.js';
import { readCsvSamples } from './csvSamples.js';
import { imagesInFolder, readImageSamples } from './imageSamples.js';
import { inputKind } from './inputKind.js';
import { readCifar10Samples, readIdxSamples } from './recordSamples.js';
import type { Samples } from './samples.js';

/**
 * The samples of `dlt predict`'s <input>, whatever its kind (inputKind), in the input
 * shape of the run `config` describes: nothing is classified yet, so a bad input fails
 * before the model is loaded.
 */
export async function readPredictInput(input: string, config: Config): Promise<Samples> {
  const modelInput = config.model.input;
  switch (inputKind(input)) {
    case 'csv':
      return readCsvSamples(input, config);
    case 'idx':
      return readIdxSamples(input, modelInput);
    case 'cifar10':
      return readCifar10Samples(input, modelInput);
    case 'image':
      return readImageSamples([input], modelInput, input);
    case 'image-folder':
      return readImageSamples(imagesInFolder(input), modelInput, input);
  }
}
