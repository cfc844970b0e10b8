import { SignatureHash } from '../layers/layer.js';
import { OneHotRegression } from './oneHotRegression.js';

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
export class Absolute extends OneHotRegression {
  readonly type = 'absolute';

  protected penalty(r: number): number {
    return Math.abs(r);
  }

  protected scale(n: number): number {
    return 1 / n;
  }

  /** sign(f − t)/n, with sign(0) = 0. */
  protected slope(r: number, scale: number): number {
    return r > 0 ? scale : r < 0 ? -scale : 0;
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
