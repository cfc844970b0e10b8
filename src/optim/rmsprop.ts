import type { FloatArray } from '../tensor/types.js';
import { AdaptiveRate } from './adaptiveRate.js';
import type { NamedParam } from './optimizer.js';

export interface RmspropOptions {
  /** δ, how much of the old mean square survives each step (PyTorch's `alpha`); 0.9–0.99. */
  decay: number;
  /** Added to √v so that a zero mean square does not divide by 0. */
  eps: number;
}

/**
 * RMSprop (Hinton, Coursera "Neural Networks for Machine Learning", lecture 6e; tutorial
 * slide 63, "Optimization tricks"): Adagrad whose cache forgets. Instead of the sum
 * of all squared gradients, keep an exponential moving average of them:
 *
 *   v_t = δ·v_{t−1} + (1 − δ)·g_t²        w_{t+1} = w_t − η_t·g_t / (√v_t + ε)
 *
 * elementwise, with v_0 = 0. This is torch.optim.RMSprop with alpha = δ and no momentum,
 * centring or weight decay. Because v_0 = 0 and there is no bias correction, the first
 * step is η·g/(√(1 − δ)·|g|): about 3.2·η per parameter for δ = 0.9.
 */
export class Rmsprop extends AdaptiveRate {
  constructor(
    params: readonly NamedParam[],
    private readonly options: RmspropOptions,
  ) {
    super('rmsprop', params);
  }

  /** Cache v: the moving mean of squared gradients. */
  protected updateParam(w: FloatArray, g: FloatArray, v: FloatArray, lr: number): void {
    const { decay, eps } = this.options;
    const keep = 1 - decay;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      const vi = decay * v[i]! + keep * (gi * gi);
      v[i] = vi;
      w[i]! -= (lr * gi) / (Math.sqrt(vi) + eps);
    }
  }
}
