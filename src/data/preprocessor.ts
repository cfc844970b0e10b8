import type { Config } from '../config/schema.js';
import { jsKernels, type Kernels } from '../tensor/kernels.js';
import type { FloatArray } from '../tensor/types.js';
import type { Split } from './load.js';

/**
 * Turns stored samples into network input: x' = (x − offset[f]) / divisor[f] per
 * feature f. `scale: s` is offset 0, divisor s; `standardize` uses the per-feature mean
 * and standard deviation of the training split only (never validation or test data,
 * which would leak them into training); a constant feature keeps divisor 1.
 */
export class Preprocessor {
  /**
   * For byte data with one offset and divisor for every feature (`scale`, or none): the
   * result for each of the 256 byte values, so a batch is a table lookup per byte.
   */
  private readonly table: Float64Array | undefined;
  /** The batch's sample indices, for gatherBytes. */
  private rows = new Int32Array(0);

  private constructor(
    /** Subtracted from each feature, [features]. */
    readonly offset: Float64Array,
    /** Each feature is then divided by it, [features]. */
    readonly divisor: Float64Array,
    private readonly kernels: Kernels,
  ) {
    const uniform = offset.every((o) => o === offset[0]) && divisor.every((d) => d === divisor[0]);
    if (uniform && offset.length > 0) {
      this.table = new Float64Array(256);
      for (let b = 0; b < 256; b++) this.table[b] = (b - offset[0]!) / divisor[0]!;
    }
  }

  static fit(spec: Config['data']['preprocess'], train: Split, kernels: Kernels = jsKernels): Preprocessor {
    const features = train.data.sampleShape.reduce((a, b) => a * b, 1);
    const offset = new Float64Array(features);
    const divisor = new Float64Array(features).fill(1);
    if (spec.scale !== undefined) divisor.fill(spec.scale);
    else if (spec.standardize) {
      const x = train.data.x;
      const n = train.indices.length;
      for (const i of train.indices) {
        const base = i * features;
        for (let f = 0; f < features; f++) offset[f]! += x[base + f]!;
      }
      for (let f = 0; f < features; f++) offset[f]! /= n;
      const sq = new Float64Array(features);
      for (const i of train.indices) {
        const base = i * features;
        for (let f = 0; f < features; f++) {
          const d = x[base + f]! - offset[f]!;
          sq[f]! += d * d;
        }
      }
      for (let f = 0; f < features; f++) {
        const std = Math.sqrt(sq[f]! / n);
        divisor[f] = std > 0 ? std : 1;
      }
    }
    return new Preprocessor(offset, divisor, kernels);
  }

  /**
   * Gather n samples, split.indices[order[start + k]] for k < n (or split.indices[start + k]
   * without an order), into x ([n × features]) and their labels into y.
   */
  fill(split: Split, order: Uint32Array | undefined, start: number, n: number, x: FloatArray, y: Int32Array): void {
    const src = split.data.x;
    const labels = split.data.labels;
    const { offset, divisor, table } = this;
    const features = offset.length;
    if (table && src instanceof Uint8Array) {
      if (this.rows.length < n) this.rows = new Int32Array(n);
      for (let k = 0; k < n; k++) {
        const sample = split.indices[order ? order[start + k]! : start + k]!;
        this.rows[k] = sample;
        y[k] = labels[sample]!;
      }
      this.kernels.gatherBytes(x, src, this.rows, n, features, table);
      return;
    }
    for (let k = 0; k < n; k++) {
      const sample = split.indices[order ? order[start + k]! : start + k]!;
      const from = sample * features;
      const to = k * features;
      for (let f = 0; f < features; f++) x[to + f] = (src[from + f]! - offset[f]!) / divisor[f]!;
      y[k] = labels[sample]!;
    }
  }
}
