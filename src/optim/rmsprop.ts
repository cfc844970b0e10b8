import { allocate, dtypeOf, type FloatArray } from '../tensor/types.js';
import type { NamedParam, Optimizer } from './optimizer.js';

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
export class Rmsprop implements Optimizer {
  readonly type = 'rmsprop';
  /** Slot `cache`: v, the moving mean of squared gradients, one buffer per parameter. */
  private readonly cache = new Map<string, FloatArray>();
  private steps = 0;

  constructor(
    private readonly params: readonly NamedParam[],
    private readonly options: RmspropOptions,
  ) {
    for (const { key, param } of params) {
      if (this.cache.has(key)) throw new Error(`rmsprop: parameter key '${key}' appears twice`);
      this.cache.set(key, allocate(dtypeOf(param.value), param.value.length));
    }
  }

  step(lr: number): void {
    const { decay, eps } = this.options;
    const keep = 1 - decay;
    for (const { key, param } of this.params) {
      const w = param.value;
      const g = param.grad;
      const v = this.cache.get(key)!;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]!;
        const vi = decay * v[i]! + keep * (gi * gi);
        v[i] = vi;
        w[i] -= (lr * gi) / (Math.sqrt(vi) + eps);
      }
    }
    this.steps++;
  }

  slots(): Map<string, Map<string, FloatArray>> {
    return new Map([['cache', this.cache]]);
  }

  toState(): Record<string, number> {
    return { steps: this.steps };
  }

  fromState(state: Record<string, number>): void {
    this.steps = state.steps ?? 0;
  }
}
