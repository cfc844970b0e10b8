import { z } from 'zod';
import type { Param } from '../layers/layer.js';
import { allocate, dtypeOf, type FloatArray } from '../tensor/types.js';

/** A parameter as an optimiser sees it: a stable name (`<layer>/<param>`) and its buffers. */
export interface NamedParam {
  readonly key: string;
  readonly param: Param;
}

/** The scalars an optimiser keeps besides its slot tensors: the step count, for every optimiser. */
export const optimizerStateSchema = z.strictObject({ steps: z.number().int().min(0) });
export type OptimizerState = z.infer<typeof optimizerStateSchema>;

/**
 * Optimiser = hyperparameters + state + step. State is plain data keyed by parameter
 * name (never by position), so a snapshot can save it as `optim/<layer>/<name>/<slot>`.
 */
export interface Optimizer {
  readonly type: string;
  /** Update every parameter from its grad, with learning rate `lr` (the schedule owns it). */
  step(lr: number): void;
  /** Per-parameter state buffers, by slot name (`velocity`, `m`, ...). */
  slots(): Map<string, Map<string, FloatArray>>;
  /** Step count and other scalars that must survive a resume. */
  toState(): OptimizerState;
  fromState(state: OptimizerState): void;
}

/**
 * What every optimiser shares: the parameters by name (a name may appear once), one
 * zeroed buffer per parameter for each of its slots, and the step count t, which counts
 * every step and is restored on resume like the slots. A subclass supplies `update`,
 * one step over all parameters at step t (1 for the first).
 */
export abstract class OptimizerBase implements Optimizer {
  private readonly buffers = new Map<string, Map<string, FloatArray>>();
  private steps = 0;

  constructor(
    readonly type: string,
    protected readonly params: readonly NamedParam[],
    slotNames: readonly string[],
  ) {
    const keys = new Set<string>();
    for (const { key } of params) {
      if (keys.has(key)) throw new Error(`${type}: parameter key '${key}' appears twice`);
      keys.add(key);
    }
    for (const slot of slotNames) {
      this.buffers.set(slot, new Map(params.map(({ key, param }) => [key, allocate(dtypeOf(param.value), param.value.length)])));
    }
  }

  /** One step over every parameter, the t-th (t ≥ 1). */
  protected abstract update(lr: number, t: number): void;

  step(lr: number): void {
    this.steps++;
    this.update(lr, this.steps);
  }

  /** Parameter `key`'s buffer of `slot`. */
  protected slot(slot: string, key: string): FloatArray {
    const buffer = this.buffers.get(slot)?.get(key);
    if (!buffer) throw new Error(`${this.type}: no ${slot} buffer for parameter '${key}'`);
    return buffer;
  }

  slots(): Map<string, Map<string, FloatArray>> {
    return this.buffers;
  }

  toState(): OptimizerState {
    return { steps: this.steps };
  }

  fromState(state: OptimizerState): void {
    this.steps = state.steps;
  }
}
