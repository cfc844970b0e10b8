import type { OptimizerSpec } from '../config/schema.js';
import { jsKernels, type Kernels } from '../tensor/kernels.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import type { NamedParam, Optimizer } from './optimizer.js';
import { Rmsprop } from './rmsprop.js';
import { Sgd } from './sgd.js';

/** Config `optimizer.type` → optimiser. */
const factories: {
  [T in OptimizerSpec['type']]: (spec: Extract<OptimizerSpec, { type: T }>, params: readonly NamedParam[], kernels: Kernels) => Optimizer;
} = {
  sgd: (spec, params, kernels) => new Sgd(params, { momentum: spec.momentum, nesterov: spec.nesterov }, kernels),
  adagrad: (spec, params) => new Adagrad(params, { eps: spec.eps }),
  rmsprop: (spec, params) => new Rmsprop(params, { decay: spec.decay, eps: spec.eps }),
  adam: (spec, params, kernels) => new Adam(params, { beta1: spec.beta1, beta2: spec.beta2, eps: spec.eps }, kernels),
};

/** The optimiser a config names; `kernels` runs its per-element updates where it has them. */
export function createOptimizer(spec: OptimizerSpec, params: readonly NamedParam[], kernels: Kernels = jsKernels): Optimizer {
  const factory = factories[spec.type] as (spec: OptimizerSpec, params: readonly NamedParam[], kernels: Kernels) => Optimizer;
  return factory(spec, params, kernels);
}
