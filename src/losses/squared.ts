import { OneHotRegression } from './oneHotRegression.js';

/**
 * Squared loss (tutorial, "standard choices for regression": ℓ(ŷ, y) = (ŷ − y)²) applied
 * to classification by regressing the scores onto one-hot targets t_c = [c = y]:
 *
 *   ℓ = Σ_c (f_c − t_c)²   per sample, summed over the C outputs,
 *
 * and the batch loss is the mean of ℓ over the n samples (not over n·C entries), so
 * d(mean loss)/df_c = 2(f_c − t_c)/n.
 */
export class Squared extends OneHotRegression {
  readonly type = 'squared';

  protected penalty(r: number): number {
    return r * r;
  }

  protected scale(n: number): number {
    return 2 / n;
  }

  /** (f − t)·(2/n). */
  protected slope(r: number, scale: number): number {
    return r * scale;
  }
}
