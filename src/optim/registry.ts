import type { OptimizerSpec } from '../config/schema.js';
import type { NamedParam, Optimizer } from './optimizer.js';
import { Sgd } from './sgd.js';

/** Config `optimizer.type` → optimiser. */
const factories: { [T in OptimizerSpec['type']]: (spec: Extract<OptimizerSpec, { type: T }>, params: readonly NamedParam[]) => Optimizer } = {
  sgd: (spec, params) => new Sgd(params, { momentum: spec.momentum, nesterov: spec.nesterov }),
};

export function createOptimizer(spec: OptimizerSpec, params: readonly NamedParam[]): Optimizer {
  return factories[spec.type](spec, params);
}
