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
 */
export class SoftmaxCrossEntropy implements Loss {
  readonly type = 'softmax_cross_entropy';
  private readonly probs: Workspace;
  private readonly grads: Workspace;
  private labels: Int32Array = new Int32Array(0);
  private n = 0;

  constructor(
    private readonly classes: number,
    dtype: DType,
  ) {
    this.probs = new Workspace(dtype, classes);
    this.grads = new Workspace(dtype, classes);
  }

  forward(scores: FloatArray, labels: Int32Array, n: number): number {
    // scores is (n, C); probs is (n, C)
    const C = this.classes;
    const p = this.probs.get(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const row = i * C;
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
      total += Math.log(sum) - (scores[row + labels[i]!]! - max);
    }
    this.labels = labels;
    this.n = n;
    return total / n;
  }

  /** Scores near 0 give every class p ≈ 1/C, so the loss ≈ −log(1/C) = log C. */
  initialLoss(): number {
    return Math.log(this.classes);
  }

  backward(): FloatArray {
    // d(mean loss)/df = (p − onehot(y)) / n
    const { n, classes: C } = this;
    const p = this.probs.get(n);
    const d = this.grads.get(n);
    const scale = 1 / n;
    for (let i = 0; i < n; i++) {
      const row = i * C;
      for (let c = 0; c < C; c++) d[row + c] = p[row + c]! * scale;
      d[row + this.labels[i]!]! -= scale;
    }
    return d;
  }
}
