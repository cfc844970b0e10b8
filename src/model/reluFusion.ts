import { Relu } from '../layers/activations.js';
import { Dense } from '../layers/dense.js';
import type { Layer } from '../layers/layer.js';

/**
 * Lets each dense layer do the work of a ReLU layer next to it in the pass its matrix
 * product makes over its result (kernels gemmBias and gemmReluGrad), where the ReLU
 * would otherwise make a pass of its own:
 * - dense, then relu: in training, the dense layer's forward rectifies its output and
 *   the ReLU's passes it on. In evaluation each layer computes its own output, so a
 *   layer-by-layer scan (src/insight) still sees the dense layer's before the ReLU.
 * - relu, then dense: the dense layer's input gradient is zeroed where its input, the
 *   ReLU's output, is not positive, and the ReLU's backward passes it on.
 * The values are the same as unfused, bit for bit: the same operations on the same
 * numbers, only sooner (test/reluFusion.test.ts).
 */
export function fuseRelus(layers: readonly Layer[]): void {
  for (let i = 0; i + 1 < layers.length; i++) {
    const [first, second] = [layers[i], layers[i + 1]];
    if (first instanceof Dense && second instanceof Relu) {
      first.fuseFollowingRelu();
      second.fusePrecedingDense();
    }
    if (first instanceof Relu && second instanceof Dense) {
      first.fuseFollowingDense();
      second.fusePrecedingRelu();
    }
  }
}
