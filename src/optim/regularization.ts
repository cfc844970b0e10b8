import type { Config } from '../config/schema.js';
import { type Param, SignatureHash } from '../layers/layer.js';
import { jsKernels, type Kernels } from '../tensor/kernels.js';
import type { NamedParam } from './optimizer.js';

/**
 * Weight decay in the tutorial's convention: the objective is
 *
 *   mean batch loss + l2·Σ w² + l1·Σ |w|
 *
 * over weights (biases too only with `regularize_bias`), so the gradient adds
 * 2·l2·w + l1·sign(w), with sign(0) = 0 (the subgradient at L1's kink). PyTorch's
 * `weight_decay = wd` is `l2 = wd/2` here.
 *
 * The penalty is not part of the reported training loss (loss, loss_avg,
 * train_loss_avg stay the data loss, comparable to validation); epoch records report it
 * separately as `penalty`.
 */
export class Regularizer {
  private readonly targets: readonly NamedParam[];

  constructor(
    private readonly spec: Config['regularization'],
    params: readonly NamedParam[],
    private readonly kernels: Kernels = jsKernels,
  ) {
    this.targets = spec.l1 > 0 || spec.l2 > 0 ? params.filter(({ param }) => param.isWeight || spec.regularize_bias) : [];
  }

  get active(): boolean {
    return this.targets.length > 0;
  }

  /** Add the penalty's gradient into each regularised parameter's grad. */
  addGradients(): void {
    const twoL2 = 2 * this.spec.l2;
    const l1 = this.spec.l1;
    for (const { param } of this.targets) this.kernels.weightDecayGrad(param.value, param.grad, twoL2, l1);
  }

  /** l2·Σw² + l1·Σ|w| at the current parameters. */
  penalty(): number {
    let squares = 0;
    let absolutes = 0;
    for (const { param } of this.targets) {
      const w = param.value;
      for (let i = 0; i < w.length; i++) {
        const v = w[i]!;
        squares += v * v;
        absolutes += Math.abs(v);
      }
    }
    return this.spec.l2 * squares + this.spec.l1 * absolutes;
  }

  /** Whether the penalty has a kink in `param`: L1 is on and reaches it (|w| at w = 0). */
  kinkedIn(param: Param): boolean {
    return this.spec.l1 > 0 && this.targets.some((t) => t.param === param);
  }

  /**
   * For the gradient check (as Layer.kinkSignature): a hash of the sign of every
   * L1-regularised entry, which changes when a step crosses |w|'s kink at 0. Constant
   * without L1.
   */
  kinkSignature(): number {
    const hash = new SignatureHash();
    if (this.spec.l1 > 0) {
      for (const { param } of this.targets) {
        const w = param.value;
        for (let i = 0; i < w.length; i++) {
          const v = w[i]!;
          hash.add(v > 0 ? 1 : v < 0 ? -1 : 0);
        }
      }
    }
    return hash.value;
  }
}
