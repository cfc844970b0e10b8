import type { FloatArray } from '../tensor/types.js';
import { type NamedParam, OptimizerBase } from './optimizer.js';

/**
 * The common part of the optimisers that divide each element's step by the root of a
 * running statistic of its squared gradients (Adagrad, RMSprop): slot `cache`, one
 * buffer per parameter, zero at the start. A subclass supplies only how one parameter's
 * cache and value are updated.
 */
export abstract class AdaptiveRate extends OptimizerBase {
  constructor(type: string, params: readonly NamedParam[]) {
    super(type, params, ['cache']);
  }

  /** w (one parameter) −= its step, from its gradient g; updates its cache in place. */
  protected abstract updateParam(w: FloatArray, g: FloatArray, cache: FloatArray, lr: number): void;

  protected update(lr: number): void {
    for (const { key, param } of this.params) this.updateParam(param.value, param.grad, this.slot('cache', key), lr);
  }
}
