import { Workspace } from '../layers/layer.js';
import type { DType, FloatArray } from '../tensor/types.js';
import type { Loss } from './loss.js';

/**
 * Softmax cross-entropy (tutorial, "Linear classification"): p_c = e^{f_c} / Σ_j e^{f_j},
 * loss = −log p_y = −f_y + log Σ_j e^{f_j}, and dloss/df_c = p_c − [c = y].
 *
 * Computed stably by shifting the scores by a = max_c f_c before exponentiating: the
 * posteriors do not change, the largest term becomes e^0 = 1 so nothing overflows, and
 * tiny terms may underflow to 0 harmlessly (scores [1000, 995, 10] give p ≈ [0.993, 0.0067, 0]).
 *
 * With class weights w (src/losses/classWeights.ts) the batch loss is the weighted mean
 * L = Σ_i w_{y_i}·ℓ_i / W with W = Σ_i w_{y_i}, as PyTorch's CrossEntropyLoss(weight=w), and
 * dL/df_ic = w_{y_i}·(p_ic − [c = y_i]) / W. Without weights every w is 1 and W = n, and
 * the arithmetic is the plain mean's bit for bit (1·ℓ = ℓ exactly, and Σ 1 = n exactly).
 * A batch whose samples all have weight 0 (W = 0) has loss 0 and gradient 0: it holds
 * nothing the weights count (PyTorch gives 0/0 = NaN, which would stop training).
 */
export class SoftmaxCrossEntropy implements Loss {
  readonly type = 'softmax_cross_entropy';
  private readonly probs: Workspace;
  private readonly grads: Workspace;
  private labels: Int32Array = new Int32Array(0);
  private n = 0;
  /** W = Σ_i w_{y_i} of the last forward (n without weights). */
  private weight = 0;

  constructor(
    private readonly classes: number,
    dtype: DType,
    /** One weight ≥ 0 per class, or none (all 1). */
    readonly classWeights?: Float64Array,
  ) {
    this.probs = new Workspace(dtype, classes);
    this.grads = new Workspace(dtype, classes);
  }

  forward(scores: FloatArray, labels: Int32Array, n: number): number {
    // scores is (n, C); probs is (n, C)
    const C = this.classes;
    const p = this.probs.get(n);
    const w = this.classWeights;
    let total = 0;
    let weight = 0;
    for (let i = 0; i < n; i++) {
      const row = i * C;
      const wi = w ? w[labels[i]!]! : 1;
      let max = -Infinity;
      for (let c = 0; c < C; c++) if (scores[row + c]! > max) max = scores[row + c]!;
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(scores[row + c]! - max);
        p[row + c] = e;
        sum += e;
      }
      for (let c = 0; c < C; c++) p[row + c] = p[row + c]! / sum;
      // −log p_y = log Σ e^{f_j − a} − (f_y − a): no exp of a large number, no log of 0.
      total += wi * (Math.log(sum) - (scores[row + labels[i]!]! - max));
      weight += wi;
    }
    this.labels = labels;
    this.n = n;
    this.weight = weight;
    // W = 0: total is 0 (every term 0·ℓ), or NaN when a score was, which must still surface.
    return weight > 0 ? total / weight : total;
  }

  batchWeight(): number {
    return this.weight;
  }

  /**
   * Scores near 0 give every class p ≈ 1/C, so the loss ≈ −log(1/C) = log C — with class
   * weights too, since a weighted mean of log C is log C.
   */
  initialLoss(): number {
    return Math.log(this.classes);
  }

  backward(): FloatArray {
    // d(mean loss)/df = w_y·(p − onehot(y)) / W, (n, C); (p − onehot(y)) / n without weights
    const { n, classes: C, weight } = this;
    const w = this.classWeights;
    const p = this.probs.get(n);
    const d = this.grads.get(n);
    const uniform = 1 / n;
    for (let i = 0; i < n; i++) {
      const row = i * C;
      const scale = !w ? uniform : weight > 0 ? w[this.labels[i]!]! / weight : 0;
      for (let c = 0; c < C; c++) d[row + c] = p[row + c]! * scale;
      d[row + this.labels[i]!]! -= scale;
    }
    return d;
  }
}
