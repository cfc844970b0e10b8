import type { Param } from '../layers/layer.js';
import type { FloatArray } from '../tensor/types.js';

/** A parameter as an optimiser sees it: a stable name (`<layer>/<param>`) and its buffers. */
export interface NamedParam {
  readonly key: string;
  readonly param: Param;
}

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
  toState(): Record<string, number>;
  fromState(state: Record<string, number>): void;
}
