import type { LayerSpec } from '../config/schema.js';
import { Elu, LeakyRelu, Relu, Sigmoid, Tanh } from './activations.js';
import { ChannelMaxpool } from './channelMaxpool.js';
import { Conv2d } from './conv2d.js';
import { Dense } from './dense.js';
import { Dropout } from './dropout.js';
import { Flatten } from './flatten.js';
import type { Layer, LayerContext } from './layer.js';
import { AvgPool2d, MaxPool2d } from './pool2d.js';
import { Prelu } from './prelu.js';

type Factory<T extends LayerSpec['type']> = (spec: Extract<LayerSpec, { type: T }>, ctx: LayerContext) => Layer;

/** Config `type` → layer. Adding a layer type means one line here and one in the schema. */
const factories: { [T in LayerSpec['type']]: Factory<T> } = {
  dense: (spec, ctx) => new Dense(spec, ctx),
  conv2d: (spec, ctx) => new Conv2d(spec, ctx),
  maxpool2d: (spec, ctx) => new MaxPool2d(spec, ctx),
  avgpool2d: (spec, ctx) => new AvgPool2d(spec, ctx),
  channel_maxpool: (spec, ctx) => new ChannelMaxpool(spec, ctx),
  flatten: (_spec, ctx) => new Flatten(ctx),
  relu: (_spec, ctx) => new Relu(ctx),
  sigmoid: (_spec, ctx) => new Sigmoid(ctx),
  tanh: (_spec, ctx) => new Tanh(ctx),
  leaky_relu: (spec, ctx) => new LeakyRelu(ctx, spec.alpha),
  prelu: (spec, ctx) => new Prelu(spec, ctx),
  elu: (spec, ctx) => new Elu(ctx, spec.alpha),
  dropout: (spec, ctx) => new Dropout(spec, ctx),
};

export function createLayer(spec: LayerSpec, ctx: LayerContext): Layer {
  const factory = factories[spec.type] as Factory<typeof spec.type>;
  return factory(spec, ctx);
}
