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
 *
 * With class weights w (src/losses/classWeights.ts) the batch loss is the weighted mean
 * L = Σ_i w_{y_i}·ℓ_i / W with W = Σ_i w_{y_i}, and the gradient of sample i is
 * ±w_{y_i}/W instead of ±1/n. Without weights every w is 1 and W = n, and the arithmetic is
 * the plain mean's bit for bit. A batch whose samples all have weight 0 (W = 0) has loss 0
 * and gradient 0.
 */
export class MulticlassHinge implements Loss {
  readonly type = 'multiclass_hinge';
  private readonly grads: Workspace;
  /** Per sample of the last forward: c* when ℓ > 0, else −1. Grows like a Workspace. */
  private competitors = new Int32Array(0);
  private labels: Int32Array = new Int32Array(0);
  private n = 0;
  /** W = Σ_i w_{y_i} of the last forward (n without weights). */
  private weight = 0;

  constructor(
    private readonly classes: number,
    dtype: DType,
    readonly margin = 1,
    /** One weight ≥ 0 per class, or none (all 1). */
    readonly classWeights?: Float64Array,
  ) {
    this.grads = new Workspace(dtype, classes);
  }

  forward(scores: FloatArray, labels: Int32Array, n: number): number {
    // scores is (n, C); labels is (n)
    const C = this.classes;
    if (this.competitors.length < n) this.competitors = new Int32Array(n);
    const w = this.classWeights;
    let total = 0;
    let weight = 0;
    for (let i = 0; i < n; i++) {
      const row = i * C;
      const y = labels[i]!;
      const wi = w ? w[y]! : 1;
      weight += wi;
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
        total += wi * violation;
        this.competitors[i] = best;
      } else {
        this.competitors[i] = -1;
        // A NaN score must surface as a NaN loss (training's on_nan check), not as ℓ = 0.
        if (Number.isNaN(violation)) total = NaN;
      }
    }
    this.labels = labels;
    this.n = n;
    this.weight = weight;
    // W = 0: total is 0, or NaN when a score was, which must still surface.
    return weight > 0 ? total / weight : total;
  }

  batchWeight(): number {
    return this.weight;
  }

  backward(): FloatArray {
    // d(mean loss)/df is (n, C): (+1 at c*, −1 at y)·w_y/W for samples with ℓ > 0 (w_y/W = 1/n without weights)
    const { n, classes: C, weight } = this;
    const w = this.classWeights;
    const d = this.grads.get(n);
    d.fill(0, 0, n * C);
    const uniform = 1 / n;
    for (let i = 0; i < n; i++) {
      const c = this.competitors[i]!;
      const scale = !w ? uniform : weight > 0 ? w[this.labels[i]!]! / weight : 0;
      // A sample of weight 0 keeps its zeros (not −0 at y).
      if (c < 0 || scale === 0) continue;
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
