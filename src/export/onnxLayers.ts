import type { LayerSpec } from '../config/schema.js';
import { paddingOf } from '../layers/conv2d.js';
import type { Layer } from '../layers/layer.js';
import { floatAttribute, intAttribute, intsAttribute, type OnnxGraph } from './onnxGraph.js';

/** What one layer's translation reads: its config, the built layer (parameters, shapes) and the tensor it consumes. */
export interface LayerInput {
  spec: LayerSpec;
  layer: Layer;
  /** The graph tensor holding the layer's input, [N, ...inputShape]. */
  tensor: string;
  /** Shape of one input sample: [D] or [C, H, W]. */
  inputShape: readonly number[];
  opset: number;
}

/**
 * Add the ONNX nodes that compute one dlt layer at inference, and return the tensor that
 * holds its output, [N, ...layer.outputShape]. Each layer maps to the ONNX operator with
 * the same definition (ONNX's Gemm, Conv and pooling share PyTorch's conventions, as dlt
 * does: cross-correlation, weights [F, C, k, k], floor-rounded window counts); dropout
 * is the identity at inference and adds nothing.
 */
export function addLayer(graph: OnnxGraph, { spec, layer, tensor, inputShape, opset }: LayerInput): string {
  const name = layer.name;
  switch (spec.type) {
    case 'dense':
      // y = x·Wᵀ + b: x [N, in], W [out, in], b [out]
      return graph.node('Gemm', name, [tensor, weight(graph, layer, 'weight'), weight(graph, layer, 'bias')], [intAttribute('transB', 1)]);
    case 'conv2d': {
      const pad = paddingOf(spec.padding, spec.kernel);
      return graph.node(
        'Conv',
        name,
        [tensor, weight(graph, layer, 'weight'), weight(graph, layer, 'bias')],
        [
          intsAttribute('kernel_shape', [spec.kernel, spec.kernel]),
          intsAttribute('strides', [spec.stride, spec.stride]),
          intsAttribute('pads', [pad, pad, pad, pad]),
        ],
      );
    }
    case 'maxpool2d':
    case 'avgpool2d':
      return graph.node(
        spec.type === 'maxpool2d' ? 'MaxPool' : 'AveragePool',
        name,
        [tensor],
        [intsAttribute('kernel_shape', [spec.size, spec.size]), intsAttribute('strides', [spec.stride, spec.stride])],
      );
    case 'channel_maxpool':
      return channelMaxpool(graph, name, tensor, inputShape, spec.group, opset);
    case 'flatten':
      return graph.node('Flatten', name, [tensor], [intAttribute('axis', 1)]);
    case 'relu':
      return graph.node('Relu', name, [tensor]);
    case 'sigmoid':
      return graph.node('Sigmoid', name, [tensor]);
    case 'tanh':
      return graph.node('Tanh', name, [tensor]);
    case 'leaky_relu':
      return graph.node('LeakyRelu', name, [tensor], [floatAttribute('alpha', spec.alpha)]);
    case 'elu':
      return graph.node('Elu', name, [tensor], [floatAttribute('alpha', spec.alpha)]);
    case 'prelu':
      return prelu(graph, layer, tensor, inputShape);
    case 'dropout':
      return tensor;
  }
}

/** A parameter of the layer as an initializer named `<layer>.<param>`, in dlt's (= ONNX's) layout. */
function weight(graph: OnnxGraph, layer: Layer, param: string): string {
  const p = layer.params.find((q) => q.name === param);
  if (!p) throw new Error(`${layer.name} has no parameter ${param}`);
  return graph.floats(`${layer.name}.${param}`, p.shape, p.value);
}

/**
 * Maxout over groups of k channels: [N, C, ...rest] is viewed as [N, C/k, k, ...rest]
 * and the max taken over the group axis. Reshape's 0 keeps the batch dimension as it is.
 * ReduceMax takes its axes as an attribute up to opset 17 and as an input from 18.
 */
function channelMaxpool(graph: OnnxGraph, name: string, tensor: string, inputShape: readonly number[], k: number, opset: number): string {
  const [channels, ...rest] = inputShape;
  const shape = graph.int64s(`${name}.shape`, [0, channels! / k, k, ...rest]);
  const grouped = graph.node('Reshape', `${name}.grouped`, [tensor, shape]);
  if (opset >= 18) return graph.node('ReduceMax', name, [grouped, graph.int64s(`${name}.axes`, [2])], [intAttribute('keepdims', 0)]);
  return graph.node('ReduceMax', name, [grouped], [intsAttribute('axes', [2]), intAttribute('keepdims', 0)]);
}

/**
 * PReLU's slope broadcast against [N, ...inputShape]: one per channel is [C, 1, 1] for
 * images and [D] for vectors; a shared slope is [1].
 */
function prelu(graph: OnnxGraph, layer: Layer, tensor: string, inputShape: readonly number[]): string {
  const alpha = layer.params.find((p) => p.name === 'alpha');
  if (!alpha) throw new Error(`${layer.name} has no parameter alpha`);
  const perChannel = alpha.value.length > 1 || inputShape.length === 1;
  const dims = perChannel ? [alpha.value.length, ...inputShape.slice(1).map(() => 1)] : [1];
  return graph.node('PRelu', layer.name, [tensor, graph.floats(`${layer.name}.alpha`, dims, alpha.value)]);
}
