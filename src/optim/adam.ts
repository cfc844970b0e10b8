import { jsKernels, type Kernels } from '../tensor/kernels.js';
import { type NamedParam, OptimizerBase } from './optimizer.js';

export interface AdamOptions {
  /** Decay of the first-moment (mean) estimate m. */
  beta1: number;
  /** Decay of the second-moment (uncentred variance) estimate v. */
  beta2: number;
  /** Added to √v̂ so that a zero second moment does not divide by 0. */
  eps: number;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1; tutorial slide 64, "Optimization tricks":
 * "kind of like RMSprop with momentum"). Per parameter, elementwise, from m_0 = v_0 = 0:
 *
 *   t ← t + 1
 *   m_t = β1·m_{t−1} + (1 − β1)·g_t          first moment: momentum on the gradient
 *   v_t = β2·v_{t−1} + (1 − β2)·g_t²         second moment: RMSprop's cache
 *   m̂_t = m_t / (1 − β1^t)    v̂_t = v_t / (1 − β2^t)
 *   w_{t+1} = w_t − η_t·m̂_t / (√v̂_t + ε)
 *
 * The bias corrections undo the pull of the zero initial m and v toward 0, which the
 * tutorial's slide leaves out; without them the early steps would be far too large
 * (v starts ~1000× too small for β2 = 0.999). This is torch.optim.Adam with
 * amsgrad = false and no weight decay; like PyTorch, the step computes
 * (η/(1 − β1^t))·m / (√v/√(1 − β2^t) + ε), the same quantity.
 *
 * The step count t is state: a resume that forgot it would redo the early, strongly
 * corrected steps.
 */
export class Adam extends OptimizerBase {
  constructor(
    params: readonly NamedParam[],
    private readonly options: AdamOptions,
    private readonly kernels: Kernels = jsKernels,
  ) {
    // Slot `m`: the first-moment estimate; slot `v`: the second-moment estimate.
    super('adam', params, ['m', 'v']);
  }

  protected update(lr: number, t: number): void {
    const { beta1, beta2, eps } = this.options;
    const stepSize = lr / (1 - beta1 ** t);
    const sqrtCorrection2 = Math.sqrt(1 - beta2 ** t);
    const params = this.params;
    this.kernels.adamSteps(
      params.map(({ param }) => param.value),
      params.map(({ param }) => param.grad),
      params.map(({ key }) => this.slot('m', key)),
      params.map(({ key }) => this.slot('v', key)),
      stepSize,
      beta1,
      beta2,
      sqrtCorrection2,
      eps,
    );
  }
}
