import type { DType, FloatArray } from '../tensor/types.js';
import { SignatureHash, Workspace } from '../layers/layer.js';
import type { Loss } from './loss.js';

/**
 * Absolute loss (tutorial, "standard choices for regression": ℓ(ŷ, y) = |ŷ − y|) applied
 * to classification by regressing the scores onto one-hot targets t_c = [c = y]:
 *
 *   ℓ = Σ_c |f_c − t_c|   per sample, summed over the C outputs,
 *
 * and the batch loss is the mean of ℓ over the n samples (not over n·C entries), so
 * d(mean loss)/df_c = sign(f_c − t_c)/n. At the kink f_c = t_c we take sign(0) = 0, the
 * subgradient in the middle of [−1, 1] (as PyTorch's L1 loss does).
 */
export class Absolute implements Loss {
  readonly type = 'absolute';
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
        total += Math.abs(diff);
      }
    }
    this.n = n;
    return total / n;
  }

  backward(): FloatArray {
    // d(mean loss)/df = sign(f − t)/n, (n, C), with sign(0) = 0
    const count = this.n * this.classes;
    const r = this.residuals.get(this.n);
    const d = this.grads.get(this.n);
    const scale = 1 / this.n;
    for (let i = 0; i < count; i++) {
      const v = r[i]!;
      d[i] = v > 0 ? scale : v < 0 ? -scale : 0;
    }
    return d;
  }

  /** |f − t| has its kink at f = t: a hash of the sign of every residual of the last forward. */
  kinkSignature(): number {
    const hash = new SignatureHash();
    const count = this.n * this.classes;
    const r = this.residuals.get(this.n);
    for (let i = 0; i < count; i++) {
      const v = r[i]!;
      hash.add(v > 0 ? 1 : v < 0 ? -1 : 0);
    }
    return hash.value;
  }
}
