import { SignatureHash, Workspace } from '../layers/layer.js';
import type { DType, FloatArray } from '../tensor/types.js';
import type { Loss } from './loss.js';

/**
 * Multiclass hinge loss in the tutorial's form ("Linear classification": a linear
 * penalty for violating a fixed classification margin), Crammer & Singer (2001):
 *
 *   ℓ = max(0, max_{c≠y} (f_c + margin − f_y)).
 *
 * Only the strongest competitor is penalised, so ℓ = 0 exactly when the true class beats
 * every other class by at least the margin, and ℓ ≥ margin whenever the arg-max
 * prediction is wrong: ℓ/margin is a convex upper bound on the 0/1 loss. The other common form, Weston & Watkins (1999) — the CS231n "SVM
 * loss" — sums a hinge per competitor, Σ_{c≠y} max(0, f_c + margin − f_y), and so grows
 * with the number of violating classes; we follow the tutorial.
 *
 * Gradient of the mean over n samples: where ℓ > 0, +1/n at the arg-max competitor c* and
 * −1/n at y; 0 elsewhere. At the kinks we pick one subgradient: when competitors tie for
 * the maximum, c* is the lowest index; when ℓ is exactly 0 (the margin is met with
 * equality), the gradient is 0. With a single class there is no competitor and ℓ = 0.
 */
export class MulticlassHinge implements Loss {
  readonly type = 'multiclass_hinge';
  private readonly grads: Workspace;
  /** Per sample of the last forward: c* when ℓ > 0, else −1. Grows like a Workspace. */
  private competitors = new Int32Array(0);
  private labels: Int32Array = new Int32Array(0);
  private n = 0;

  constructor(
    private readonly classes: number,
    dtype: DType,
    readonly margin = 1,
  ) {
    this.grads = new Workspace(dtype, classes);
  }

  forward(scores: FloatArray, labels: Int32Array, n: number): number {
    // scores is (n, C); labels is (n)
    const C = this.classes;
    if (this.competitors.length < n) this.competitors = new Int32Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const row = i * C;
      const y = labels[i]!;
      let best = -1;
      let bestScore = -Infinity;
      let nan = false;
      for (let c = 0; c < C; c++) {
        const f = scores[row + c]!;
        if (Number.isNaN(f)) nan = true;
        // Strict > keeps the lowest index among tied competitors.
        else if (c !== y && f > bestScore) {
          best = c;
          bestScore = f;
        }
      }
      const violation = nan ? NaN : best < 0 ? 0 : bestScore + this.margin - scores[row + y]!;
      if (violation > 0) {
        total += violation;
        this.competitors[i] = best;
      } else {
        this.competitors[i] = -1;
        // A NaN score must surface as a NaN loss (training's on_nan check), not as ℓ = 0.
        if (Number.isNaN(violation)) total = NaN;
      }
    }
    this.labels = labels;
    this.n = n;
    return total / n;
  }

  backward(): FloatArray {
    // d(mean loss)/df is (n, C): (+1 at c*, −1 at y) / n for samples with ℓ > 0
    const { n, classes: C } = this;
    const d = this.grads.get(n);
    d.fill(0, 0, n * C);
    const scale = 1 / n;
    for (let i = 0; i < n; i++) {
      const c = this.competitors[i]!;
      if (c < 0) continue;
      const row = i * C;
      d[row + c] = scale;
      d[row + this.labels[i]!] = -scale;
    }
    return d;
  }

  /**
   * Kinks: where ℓ meets 0 and where the strongest competitor changes. Per sample of the
   * last forward, c* when ℓ > 0 and −1 otherwise captures both (a change of competitor
   * while ℓ = 0 is no kink: the loss stays 0).
   */
  kinkSignature(): number {
    const hash = new SignatureHash();
    for (let i = 0; i < this.n; i++) hash.add(this.competitors[i]!);
    return hash.value;
  }
}
