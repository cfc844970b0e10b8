import type { LayerSpec } from '../config/schema.js';
import type { Network } from '../model/network.js';
import { sizeOf } from '../tensor/types.js';

/**
 * Floating-point operations of one training step per sample, counted from the layer
 * shapes: the matrix products only (dense and conv layers), where nearly all of a
 * step's arithmetic is. A product of m·n·k multiply-adds is 2·m·n·k FLOPs; forward is
 * one product per layer, backward two (dW and dX), except that the first layer with
 * parameters needs no dX. Element-wise layers, pooling and the optimiser are left out.
 *
 *   MLP 784-256-128-10: 234,752 multiply-adds → 2·(3·234,752 − 200,704) ≈ 1.0 MFLOP
 *
 * `specs` are the config's layers, network.layers[i] built from specs[i].
 */
export function trainingFlopsPerSample(specs: readonly LayerSpec[], network: Network): number {
  let flops = 0;
  let first = true;
  let shape = network.inputShape;
  network.layers.forEach((layer, i) => {
    const spec = specs[i]!;
    let macs = 0;
    if (spec.type === 'dense') macs = sizeOf(shape) * spec.units;
    else if (spec.type === 'conv2d') macs = sizeOf(layer.outputShape) * shape[0]! * spec.kernel * spec.kernel;
    if (macs > 0) {
      flops += 2 * macs * (first ? 2 : 3);
      first = false;
    }
    shape = layer.outputShape;
  });
  return flops;
}
