import type { LossSpec } from '../config/schema.js';
import type { DType } from '../tensor/types.js';
import { Absolute } from './absolute.js';
import { classWeightsOf } from './classWeights.js';
import type { Loss } from './loss.js';
import { MulticlassHinge } from './multiclassHinge.js';
import { SoftmaxCrossEntropy } from './softmaxCrossEntropy.js';
import { Squared } from './squared.js';

/** Config `loss.type` → loss, for a network with `classes` outputs. */
const factories: { [T in LossSpec['type']]: (spec: Extract<LossSpec, { type: T }>, classes: number, dtype: DType) => Loss } = {
  softmax_cross_entropy: (spec, classes, dtype) => new SoftmaxCrossEntropy(classes, dtype, classWeightsOf(spec, classes)),
  multiclass_hinge: (spec, classes, dtype) => new MulticlassHinge(classes, dtype, spec.margin, classWeightsOf(spec, classes)),
  squared: (_spec, classes, dtype) => new Squared(classes, dtype),
  absolute: (_spec, classes, dtype) => new Absolute(classes, dtype),
};

export function createLoss(spec: LossSpec, classes: number, dtype: DType): Loss {
  const factory = factories[spec.type] as (spec: LossSpec, classes: number, dtype: DType) => Loss;
  return factory(spec, classes, dtype);
}
