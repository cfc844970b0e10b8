import { allocate, dtypeOf, type FloatArray } from '../tensor/types.js';
import type { NamedParam, Optimizer } from './optimizer.js';

/**
 * The common part of the optimisers that divide each element's step by the root of a
 * running statistic of its squared gradients (Adagrad, RMSprop): one `cache` buffer per
 * parameter, keyed by name and zero at the start, and the step count. A subclass
 * supplies only how one parameter's cache and value are updated.
 */
export abstract class AdaptiveRate implements Optimizer {
  /** Slot `cache`: the running statistic of squared gradients, one buffer per parameter. */
  private readonly cache = new Map<string, FloatArray>();
  private steps = 0;

  constructor(
    readonly type: string,
    private readonly params: readonly NamedParam[],
  ) {
    for (const { key, param } of params) {
      if (this.cache.has(key)) throw new Error(`${type}: parameter key '${key}' appears twice`);
      this.cache.set(key, allocate(dtypeOf(param.value), param.value.length));
    }
  }

  /** w (one parameter) −= its step, from its gradient g; updates its cache in place. */
  protected abstract update(w: FloatArray, g: FloatArray, cache: FloatArray, lr: number): void;

  step(lr: number): void {
    for (const { key, param } of this.params) this.update(param.value, param.grad, this.cache.get(key)!, lr);
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
