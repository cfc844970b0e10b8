import { allocate, dtypeOf, type FloatArray } from '../tensor/types.js';
import type { NamedParam, Optimizer } from './optimizer.js';

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
export class Adagrad implements Optimizer {
  readonly type = 'adagrad';
  /** Slot `cache`: G, the running sum of squared gradients, one buffer per parameter. */
  private readonly cache = new Map<string, FloatArray>();
  private steps = 0;

  constructor(
    private readonly params: readonly NamedParam[],
    private readonly options: AdagradOptions,
  ) {
    for (const { key, param } of params) {
      if (this.cache.has(key)) throw new Error(`adagrad: parameter key '${key}' appears twice`);
      this.cache.set(key, allocate(dtypeOf(param.value), param.value.length));
    }
  }

  step(lr: number): void {
    const { eps } = this.options;
    for (const { key, param } of this.params) {
      const w = param.value;
      const g = param.grad;
      const G = this.cache.get(key)!;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i]!;
        const Gi = G[i]! + gi * gi;
        G[i] = Gi;
        w[i] -= (lr * gi) / (Math.sqrt(Gi) + eps);
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
