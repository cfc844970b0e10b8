import { jsKernels, type Kernels } from '../tensor/kernels.js';
import { type NamedParam, OptimizerBase } from './optimizer.js';

export interface SgdOptions {
  momentum: number;
  nesterov: boolean;
}

/**
 * Stochastic gradient descent with momentum, in the tutorial's form ("Momentum"):
 *
 *   Δw_t = γ·Δw_{t−1} + η_t·g_t        w_{t+1} = w_t − Δw_t
 *
 * The velocity Δw (slot `velocity`, present only with momentum) carries the learning
 * rate, so a learning-rate drop takes effect gradually, as momentum decays. (PyTorch
 * keeps v = γv + g and steps by η·v; the two agree while η is constant.) With γ = 0
 * this is plain SGD: w −= η·g.
 *
 * Nesterov's variant looks ahead along the velocity: w_{t+1} = w_t − (γ·Δw_t + η_t·g_t).
 */
export class Sgd extends OptimizerBase {
  constructor(
    params: readonly NamedParam[],
    private readonly options: SgdOptions,
    private readonly kernels: Kernels = jsKernels,
  ) {
    super('sgd', params, options.momentum > 0 ? ['velocity'] : []);
  }

  protected update(lr: number): void {
    const { momentum, nesterov } = this.options;
    if (momentum === 0) {
      for (const { param } of this.params) {
        const w = param.value;
        const g = param.grad;
        for (let i = 0; i < w.length; i++) w[i]! -= lr * g[i]!;
      }
      return;
    }
    const params = this.params;
    this.kernels.sgdMomentumSteps(
      params.map(({ param }) => param.value),
      params.map(({ param }) => param.grad),
      params.map(({ key }) => this.slot('velocity', key)),
      lr,
      momentum,
      nesterov,
    );
  }
}
