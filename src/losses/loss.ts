import type { FloatArray } from '../tensor/types.js';

/** A loss on the network's output scores: the mean over a batch, and its gradient. */
export interface Loss {
  readonly type: string;
  /**
   * Mean loss over n samples. scores is [n × classes]; labels holds n class indices.
   * Caches what backward needs.
   */
  forward(scores: FloatArray, labels: Int32Array, n: number): number;
  /** dL/dscores of the mean loss of the last forward, [n × classes], a buffer the loss owns. */
  backward(): FloatArray;
  /**
   * Present only on losses that take class weights: the denominator of the last forward's
   * mean, W = Σ_i w_{y_i} (n without weights). A split's loss, computed batch by batch, is
   * then Σ_batches W·L / Σ_batches W = Σ w·ℓ / Σ w over all its samples.
   */
  batchWeight?(): number;
  /**
   * Present only on losses with kinks (hinge, absolute): a hash of which side of each kink
   * the last forward was on, as Layer.kinkSignature.
   */
  kinkSignature?(): number;
  /**
   * Present only where the tutorial's sanity check applies: the loss that small random
   * weights give (scores near 0), e.g. log C for softmax cross-entropy over C classes.
   */
  initialLoss?(): number;
}
