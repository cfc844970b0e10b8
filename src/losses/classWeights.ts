import type { Config, LossSpec } from '../config/schema.js';
import { InputError } from '../errors.js';

/**
 * Class weights (config `loss.class_weights`) for softmax cross-entropy and the multiclass
 * hinge. With weight w_c for class c, the batch loss is the weighted mean
 *
 *   L = Σ_i w_{y_i}·ℓ_i / Σ_i w_{y_i}
 *
 * as PyTorch's CrossEntropyLoss(weight=w, reduction='mean'), so a class of weight 2 counts
 * as if each of its samples were there twice, and uniform weights give the plain mean.
 */

/**
 * scikit-learn's `compute_class_weight('balanced')`: class c gets N / (C·n_c), where N is
 * the number of training samples, C the number of classes (the last layer's outputs) and
 * n_c the samples of class c. Every class then carries the same total weight, N/C, as if
 * the classes were equally frequent; the mean weight over the samples is 1.
 *
 * A class with no training sample (n_c = 0) has no finite weight, and a model cannot
 * learn a class it never sees: refused (as scikit-learn does), naming the class.
 *
 * @param labels the training data's labels; `indices` picks the training split from them.
 */
export function balancedClassWeights(
  labels: ArrayLike<number>,
  indices: ArrayLike<number>,
  classes: number,
  classNames?: readonly string[],
): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let k = 0; k < indices.length; k++) counts[labels[indices[k]!]!]!++;
  const N = indices.length;
  const missing = counts.indexOf(0);
  if (missing >= 0) {
    const name = classNames?.[missing];
    throw new InputError(
      `loss.class_weights: balanced gives class c the weight N / (C·n_c), but class ${missing}${name === undefined ? '' : ` (${JSON.stringify(name)})`} ` +
        `has no sample in the training split (n_c = 0, of N = ${N}; after the validation hold-out); ` +
        'give the weights as a list, one per class, or check the labels and the number of outputs of the last layer',
    );
  }
  return counts.map((n) => N / (classes * n));
}

/**
 * The config with `loss.class_weights: balanced` replaced by the list from the training
 * split (balancedClassWeights), so that the run's config.yaml and snapshots record the
 * numbers that were used. Any other config is returned as it is.
 */
export function withBalancedClassWeights(
  config: Config,
  train: { data: { labels: ArrayLike<number> }; indices: ArrayLike<number> },
  classes: number,
  classNames?: readonly string[],
): Config {
  const { loss } = config;
  if (!('class_weights' in loss) || loss.class_weights !== 'balanced') return config;
  const weights = balancedClassWeights(train.data.labels, train.indices, classes, classNames);
  return { ...config, loss: { ...loss, class_weights: weights } };
}

/**
 * The weights of a loss spec for a model with `classes` outputs, or undefined for none.
 * A list of the wrong length is bad input; `balanced` must have been resolved from the
 * training data (withBalancedClassWeights) before a loss is built.
 */
export function classWeightsOf(spec: LossSpec, classes: number): Float64Array | undefined {
  if (!('class_weights' in spec) || spec.class_weights === undefined) return undefined;
  const weights = spec.class_weights;
  if (weights === 'balanced') throw new Error('loss.class_weights: balanced reached the loss unresolved; resolve it from the training split first');
  if (weights.length !== classes) {
    throw new InputError(
      `loss.class_weights lists ${weights.length} weight${weights.length === 1 ? '' : 's'} but the last layer has ${classes} outputs; ` +
        `give one weight per class (${classes}), or class_weights: balanced`,
    );
  }
  return Float64Array.from(weights);
}
