import type { LossSpec } from '../config/schema.js';
import type { DType } from '../tensor/types.js';
import type { Loss } from './loss.js';
import { SoftmaxCrossEntropy } from './softmaxCrossEntropy.js';

/** Config `loss.type` → loss, for a network with `classes` outputs. */
const factories: { [T in LossSpec['type']]: (spec: Extract<LossSpec, { type: T }>, classes: number, dtype: DType) => Loss } = {
  softmax_cross_entropy: (_spec, classes, dtype) => new SoftmaxCrossEntropy(classes, dtype),
};

export function createLoss(spec: LossSpec, classes: number, dtype: DType): Loss {
  return factories[spec.type](spec, classes, dtype);
}
