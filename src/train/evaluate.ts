import type { Split } from '../data/load.js';
import type { Preprocessor } from '../data/preprocessor.js';
import type { Loss } from '../losses/loss.js';
import type { Network } from '../model/network.js';
import { allocate } from '../tensor/types.js';

export interface Evaluation {
  samples: number;
  loss: number;
  accuracy: number;
  /** Accuracy of each true class (NaN where the split has no sample of it). */
  perClassAccuracy: number[];
  /** confusion[true][predicted] = count. */
  confusion: number[][];
}

/**
 * Mean loss, accuracy and confusion matrix of `split`, in evaluation mode (no dropout),
 * batch by batch so memory stays bounded. With class weights the loss is the weighted
 * mean over the whole split, Σ w_y·ℓ / Σ w_y (each batch's mean weighed by its W), as
 * the training loss; accuracy counts every sample once.
 */
export function evaluate(network: Network, loss: Loss, prep: Preprocessor, split: Split, batchSize: number): Evaluation {
  const C = network.outputSize;
  const x = allocate(network.dtype, batchSize * network.inputSize);
  const y = new Int32Array(batchSize);
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const total = split.indices.length;
  let lossSum = 0;
  let weightSum = 0;
  let correct = 0;
  for (let start = 0; start < total; start += batchSize) {
    const n = Math.min(batchSize, total - start);
    prep.fill(split, undefined, start, n, x, y);
    const scores = network.forward(x, n, false);
    const mean = loss.forward(scores, y, n);
    const weight = loss.batchWeight?.() ?? n;
    lossSum += mean * weight;
    weightSum += weight;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (scores[i * C + c]! > scores[i * C + best]!) best = c;
      confusion[y[i]!]![best]!++;
      if (best === y[i]) correct++;
    }
  }
  const perClassAccuracy = confusion.map((row, c) => {
    const count = row.reduce((a, b) => a + b, 0);
    return count > 0 ? row[c]! / count : NaN;
  });
  return {
    samples: total,
    loss: weightSum > 0 ? lossSum / weightSum : NaN,
    accuracy: total > 0 ? correct / total : NaN,
    perClassAccuracy,
    confusion,
  };
}
