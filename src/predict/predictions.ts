import type { Preprocessor } from '../data/preprocessor.js';
import type { Network } from '../model/network.js';
import { allocate, type FloatArray } from '../tensor/types.js';
import type { Samples } from './samples.js';

/** The network's answer for every sample: its class, and how probable it finds each class. */
export interface Predictions {
  count: number;
  classes: number;
  /** The class of sample i: the index of its highest score (the lowest such index on a tie, as dlt eval counts), [count]. */
  predicted: Int32Array;
  /** Softmax of each sample's scores, [count × classes], row-major. */
  probabilities: Float64Array;
  /** Each sample's classes from the highest score to the lowest (ties: lower index first), [count × classes]; ranking[i·classes] = predicted[i]. */
  ranking: Int32Array;
}

/** Samples per forward pass, as dlt eval: memory stays bounded whatever the input's size. */
const BATCH = 256;

/**
 * Classify `samples` in evaluation mode (no dropout), batch by batch. The probabilities
 * are the softmax of the scores, p_c = exp(s_c − max s) / Σ_k exp(s_k − max s), in
 * float64 from the network's float scores; subtracting the largest score first keeps
 * exp from overflowing and changes nothing else. This is what a softmax cross-entropy
 * model was trained to output; for other losses (hinge, squared) it is still a monotone
 * reading of the scores, but not a calibrated probability.
 */
export function predict(network: Network, preprocessor: Preprocessor, samples: Samples): Predictions {
  const { split } = samples;
  const count = split.indices.length;
  const C = network.outputSize;
  const x = allocate(network.dtype, BATCH * network.inputSize);
  const y = new Int32Array(BATCH);
  const predicted = new Int32Array(count);
  const probabilities = new Float64Array(count * C);
  const ranking = new Int32Array(count * C);
  const order = Array.from({ length: C }, (_, c) => c);
  for (let start = 0; start < count; start += BATCH) {
    const n = Math.min(BATCH, count - start);
    preprocessor.fill(split, undefined, start, n, x, y);
    const scores = network.forward(x, n, false); // [n × C]
    for (let k = 0; k < n; k++) {
      const i = start + k;
      const s = scores.subarray(k * C, (k + 1) * C);
      order.sort((a, b) => s[b]! - s[a]! || a - b);
      ranking.set(order, i * C);
      predicted[i] = order[0]!;
      softmaxInto(s, probabilities.subarray(i * C, (i + 1) * C));
    }
  }
  return { count, classes: C, predicted, probabilities, ranking };
}

/**
 * One sample's softmax: probabilities[c] = exp(s_c − max s) / Σ_k exp(s_k − max s), in
 * float64, for the scores s of one row ([C] each). Subtracting the largest score first
 * keeps exp from overflowing and changes nothing else.
 */
export function softmaxInto(scores: FloatArray, probabilities: Float64Array): void {
  const C = scores.length;
  let max = -Infinity;
  for (let c = 0; c < C; c++) if (scores[c]! > max) max = scores[c]!;
  let sum = 0;
  for (let c = 0; c < C; c++) {
    probabilities[c] = Math.exp(scores[c]! - max);
    sum += probabilities[c]!;
  }
  for (let c = 0; c < C; c++) probabilities[c]! /= sum;
}
