import { Workspace } from '../layers/layer.js';
import type { DType, FloatArray } from '../tensor/types.js';
import type { Loss } from './loss.js';

/**
 * A regression loss applied to classification by regressing the scores onto one-hot
 * targets t_c = [c = y] (tutorial, "standard choices for regression"):
 *
 *   ℓ = Σ_c φ(f_c − t_c)   per sample, summed over the C outputs,
 *
 * and the batch loss is the mean of ℓ over the n samples (not over n·C entries), so
 * d(mean loss)/df_c = φ'(f_c − t_c)/n. A subclass supplies φ (`penalty`) and φ'/n
 * (`scale` and `slope`); the buffers and loops over samples and classes live here.
 */
export abstract class OneHotRegression implements Loss {
  abstract readonly type: string;
  /** f − t of the last forward, (n, C). */
  protected readonly residuals: Workspace;
  private readonly grads: Workspace;
  protected n = 0;

  constructor(
    protected readonly classes: number,
    dtype: DType,
  ) {
    this.residuals = new Workspace(dtype, classes);
    this.grads = new Workspace(dtype, classes);
  }

  /** φ(r): the loss of one residual r = f_c − t_c. */
  protected abstract penalty(r: number): number;
  /** The factor backward computes once for a batch of n and hands to every `slope`. */
  protected abstract scale(n: number): number;
  /** φ'(r)/n for one residual r, given `scale` = scale(n). */
  protected abstract slope(r: number, scale: number): number;

  forward(scores: FloatArray, labels: Int32Array, n: number): number {
    // scores is (n, C); labels is (n); residuals is (n, C)
    const C = this.classes;
    const r = this.residuals.get(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const row = i * C;
      const y = labels[i]!;
      for (let c = 0; c < C; c++) {
        const diff = scores[row + c]! - (c === y ? 1 : 0);
        r[row + c] = diff;
        total += this.penalty(diff);
      }
    }
    this.n = n;
    return total / n;
  }

  backward(): FloatArray {
    // d(mean loss)/df = φ'(f − t)/n, (n, C)
    const count = this.n * this.classes;
    const r = this.residuals.get(this.n);
    const d = this.grads.get(this.n);
    const scale = this.scale(this.n);
    for (let i = 0; i < count; i++) d[i] = this.slope(r[i]!, scale);
    return d;
  }
}
