import type { DType, FloatArray } from '../tensor/types.js';
import { Workspace } from '../layers/layer.js';
import type { Loss } from './loss.js';

/**
 * Squared loss (tutorial, "standard choices for regression": ℓ(ŷ, y) = (ŷ − y)²) applied
 * to classification by regressing the scores onto one-hot targets t_c = [c = y]:
 *
 *   ℓ = Σ_c (f_c − t_c)²   per sample, summed over the C outputs,
 *
 * and the batch loss is the mean of ℓ over the n samples (not over n·C entries), so
 * d(mean loss)/df_c = 2(f_c − t_c)/n.
 */
export class Squared implements Loss {
  readonly type = 'squared';
  /** f − t of the last forward, (n, C). */
  private readonly residuals: Workspace;
  private readonly grads: Workspace;
  private n = 0;

  constructor(
    private readonly classes: number,
    dtype: DType,
  ) {
    this.residuals = new Workspace(dtype, classes);
    this.grads = new Workspace(dtype, classes);
  }

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
        total += diff * diff;
      }
    }
    this.n = n;
    return total / n;
  }

  backward(): FloatArray {
    // d(mean loss)/df = 2(f − t)/n, (n, C)
    const count = this.n * this.classes;
    const r = this.residuals.get(this.n);
    const d = this.grads.get(this.n);
    const scale = 2 / this.n;
    for (let i = 0; i < count; i++) d[i] = r[i]! * scale;
    return d;
  }
}
