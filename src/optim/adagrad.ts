import type { FloatArray } from '../tensor/types.js';
import { AdaptiveRate } from './adaptiveRate.js';
import type { NamedParam } from './optimizer.js';

export interface AdagradOptions {
  /** Added to √G so that a parameter whose gradients have all been 0 does not divide by 0. */
  eps: number;
}

/**
 * Adagrad (Duchi, Hazan & Singer 2011; tutorial slide 62, "Optimization tricks"):
 * each parameter's step shrinks with the sum of its squared gradients so far, so
 * rarely updated directions keep a large rate and frequently updated ones slow down.
 *
 *   G_t = G_{t−1} + g_t²        w_{t+1} = w_t − η_t·g_t / (√G_t + ε)
 *
 * elementwise, with G_0 = 0. This is torch.optim.Adagrad with initial_accumulator_value = 0
 * and lr_decay = 0 (dlt's schedules own the learning rate). G only grows, so the
 * effective rate only falls — why the tutorial calls Adagrad too aggressive.
 */
export class Adagrad extends AdaptiveRate {
  constructor(
    params: readonly NamedParam[],
    private readonly options: AdagradOptions,
  ) {
    super('adagrad', params);
  }

  /** Cache G: the running sum of squared gradients. */
  protected updateParam(w: FloatArray, g: FloatArray, G: FloatArray, lr: number): void {
    const { eps } = this.options;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      const Gi = G[i]! + gi * gi;
      G[i] = Gi;
      w[i]! -= (lr * gi) / (Math.sqrt(Gi) + eps);
    }
  }
}
