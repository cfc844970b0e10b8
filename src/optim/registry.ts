import type { OptimizerSpec } from '../config/schema.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import type { NamedParam, Optimizer } from './optimizer.js';
import { Rmsprop } from './rmsprop.js';
import { Sgd } from './sgd.js';

/** Config `optimizer.type` → optimiser. */
const factories: { [T in OptimizerSpec['type']]: (spec: Extract<OptimizerSpec, { type: T }>, params: readonly NamedParam[]) => Optimizer } = {
  sgd: (spec, params) => new Sgd(params, { momentum: spec.momentum, nesterov: spec.nesterov }),
  adagrad: (spec, params) => new Adagrad(params, { eps: spec.eps }),
  rmsprop: (spec, params) => new Rmsprop(params, { decay: spec.decay, eps: spec.eps }),
  adam: (spec, params) => new Adam(params, { beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps }),
};

export function createOptimizer(spec: OptimizerSpec, params: readonly NamedParam[]): Optimizer {
  const factory = factories[spec.type] as (spec: OptimizerSpec, params: readonly NamedParam[]) => Optimizer;
  return factory(spec, params);
}
