import type { LayerSpec } from '../config/schema.js';
import { InputError } from '../errors.js';
import type { Layer } from '../layers/layer.js';
import { createLayer } from '../layers/registry.js';
import type { NamedParam } from '../optim/optimizer.js';
import type { Kernels } from '../tensor/kernels.js';
import type { DType, FloatArray } from '../tensor/types.js';
import { sizeOf } from '../tensor/types.js';
import type { Rng } from '../util/rng.js';
import { fuseRelus } from './reluFusion.js';

export interface NetworkOptions {
  dtype: DType;
  kernels: Kernels;
  /** Stream for initial weights, consumed layer by layer in config order. */
  rng: Rng;
  /** Stream for training-time randomness (dropout masks). */
  noise: Rng;
}

/**
 * A feed-forward stack of layers. Shapes are inferred from `input` through the list;
 * forward runs the layers in order, backward in reverse.
 */
export class Network {
  readonly layers: readonly Layer[];
  readonly inputShape: readonly number[];
  readonly inputSize: number;
  readonly outputSize: number;
  readonly dtype: DType;
  /** Index of the first layer that has parameters (layers.length when none has). */
  private readonly firstWithParams: number;
  /** Set by zeroGrads, cleared by the backward it applies to. */
  private gradsZero = false;

  /** The network a config's layer list describes. */
  constructor(specs: readonly LayerSpec[], inputShape: readonly number[], options: NetworkOptions);
  /** Layers built already (see Network.fromLayers). */
  constructor(source: { readonly prebuilt: readonly Layer[] }, inputShape: readonly number[], options: { dtype: DType });
  constructor(
    source: readonly LayerSpec[] | { readonly prebuilt: readonly Layer[] },
    inputShape: readonly number[],
    options: NetworkOptions | { dtype: DType },
  ) {
    this.dtype = options.dtype;
    this.inputShape = inputShape;
    this.inputSize = sizeOf(inputShape);
    const layers = 'prebuilt' in source ? [...source.prebuilt] : buildLayers(source, inputShape, options as NetworkOptions);
    const shape = layers.length > 0 ? layers[layers.length - 1]!.outputShape : inputShape;
    if (shape.length !== 1) {
      throw new InputError(
        `model.layers: the last layer outputs shape [${shape.join(', ')}], but the loss needs one score per class; end with "- flatten" and a dense layer`,
      );
    }
    fuseRelus(layers);
    this.layers = layers;
    this.outputSize = shape[0]!;
    const first = layers.findIndex((l) => l.params.length > 0);
    this.firstWithParams = first < 0 ? layers.length : first;
  }

  /**
   * A network of layers constructed by the caller (each built for the previous one's
   * output shape), e.g. test-only layers for the gradient check. Configs never come here.
   */
  static fromLayers(layers: readonly Layer[], inputShape: readonly number[], dtype: DType): Network {
    return new Network({ prebuilt: layers }, inputShape, { dtype });
  }

  /** Scores for n samples: x is [n × inputSize], the result [n × outputSize]. */
  forward(x: FloatArray, n: number, training: boolean): FloatArray {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h, n, training);
    return h;
  }

  /**
   * Backpropagate dL/dscores through every layer, accumulating parameter gradients.
   * With `needInputGrad`, also compute and return dL/dx, [n × inputSize] (a buffer some
   * layer owns, valid until the next backward); otherwise return undefined.
   */
  backward(dScores: FloatArray, n: number, needInputGrad = false): FloatArray | undefined {
    // Training never consumes dL/dx below the first layer with parameters: unless asked
    // for it, stop there, and let that layer skip its input gradient (for a dense layer
    // on images, that is a third of the backward pass).
    const stop = needInputGrad ? 0 : this.firstWithParams;
    let d = dScores;
    const gradsZero = this.gradsZero;
    this.gradsZero = false;
    for (let i = this.layers.length - 1; i >= stop; i--) d = this.layers[i]!.backward(d, n, i > stop || needInputGrad, gradsZero);
    return needInputGrad ? d : undefined;
  }

  /** Every parameter under its snapshot name `<layer>/<param>`, in layer order. */
  namedParams(): NamedParam[] {
    return this.layers.flatMap((layer) => layer.params.map((param) => ({ key: `${layer.name}/${param.name}`, param })));
  }

  /**
   * Start the gradients afresh: the next backward's are the gradients of that batch
   * alone. Layers that write their grads in backward (Layer.writesGrads) are told so
   * instead of having their grads cleared here, so until that backward their grads hold
   * stale values; the others' are zeroed now.
   */
  zeroGrads(): void {
    for (const layer of this.layers) if (!layer.writesGrads) for (const p of layer.params) p.grad.fill(0);
    this.gradsZero = true;
  }

  /** One row per layer: name, output shape, parameter count. */
  summary(): { name: string; outputShape: readonly number[]; params: number }[] {
    return this.layers.map((l) => ({
      name: l.name,
      outputShape: l.outputShape,
      params: l.params.reduce((s, p) => s + p.value.length, 0),
    }));
  }
}

/** Layers from config specs, each built for the previous one's output shape and named `<type>_<k>`. */
function buildLayers(specs: readonly LayerSpec[], inputShape: readonly number[], options: NetworkOptions): Layer[] {
  const counts = new Map<string, number>();
  const layers: Layer[] = [];
  let shape = inputShape;
  specs.forEach((spec, index) => {
    const k = (counts.get(spec.type) ?? 0) + 1;
    counts.set(spec.type, k);
    const name = `${spec.type}_${k}`;
    const location = `model.layers.${index} (${name})`;
    const layer = createLayer(spec, {
      name,
      location,
      inputShape: shape,
      dtype: options.dtype,
      kernels: options.kernels,
      rng: options.rng,
      noise: options.noise,
    });
    layers.push(layer);
    shape = layer.outputShape;
  });
  return layers;
}
