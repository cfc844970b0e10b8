import { jsKernels, type Kernels } from '../tensor/kernels.js';
import { allocate, dtypeOf, type FloatArray } from '../tensor/types.js';
import type { NamedParam, Optimizer } from './optimizer.js';

export interface SgdOptions {
  momentum: number;
  nesterov: boolean;
}

/**
 * Stochastic gradient descent with momentum, in the tutorial's form ("Momentum"):
 *
 *   Δw_t = γ·Δw_{t−1} + η_t·g_t        w_{t+1} = w_t − Δw_t
 *
 * The velocity Δw carries the learning rate, so a learning-rate drop takes effect
 * gradually, as momentum decays. (PyTorch keeps v = γv + g and steps by η·v; the two
 * agree while η is constant.) With γ = 0 this is plain SGD: w −= η·g.
 *
 * Nesterov's variant looks ahead along the velocity: w_{t+1} = w_t − (γ·Δw_t + η_t·g_t).
 */
export class Sgd implements Optimizer {
  readonly type = 'sgd';
  private readonly velocity = new Map<string, FloatArray>();
  private steps = 0;

  constructor(
    private readonly params: readonly NamedParam[],
    private readonly options: SgdOptions,
    private readonly kernels: Kernels = jsKernels,
  ) {
    if (options.momentum > 0) {
      for (const { key, param } of params) velocity(this.velocity, key, param.value);
    }
  }

  step(lr: number): void {
    const { momentum, nesterov } = this.options;
    for (const { key, param } of this.params) {
      const w = param.value;
      const g = param.grad;
      if (momentum === 0) {
        for (let i = 0; i < w.length; i++) w[i]! -= lr * g[i]!;
        continue;
      }
      this.kernels.sgdMomentumStep(w, g, this.velocity.get(key)!, lr, momentum, nesterov);
    }
    this.steps++;
  }

  slots(): Map<string, Map<string, FloatArray>> {
    return new Map(this.velocity.size > 0 ? [['velocity', this.velocity]] : []);
  }

  toState(): Record<string, number> {
    return { steps: this.steps };
  }

  fromState(state: Record<string, number>): void {
    this.steps = state.steps ?? 0;
  }
}

function velocity(into: Map<string, FloatArray>, key: string, like: FloatArray): void {
  into.set(key, allocate(dtypeOf(like), like.length));
}
