/**
 * Receptive fields (tutorial, last slides: "receptive fields grow with depth"): which
 * window of the input image each unit of a spatial layer can see. Every sliding layer
 * (a convolution or a pooling window of side k, step s, p zeros on each side) widens
 * the window by k − 1 of its input's steps and multiplies the step by s:
 *
 *   size_out  = size_in + (k − 1)·jump_in
 *   jump_out  = jump_in · s
 *   start_out = start_in − p·jump_in
 *
 * starting from one pixel (size 1, jump 1, start 0). Elementwise layers (activations,
 * dropout) and channel_maxpool look at the same position of their input, so they keep
 * the field; flatten and dense mix every position, so from them on there is none.
 */
import type { LayerSpec } from '../config/schema.js';
import { paddingOf } from '../layers/conv2d.js';

/**
 * Where a unit of a spatial layer looks in the input: output position o covers input rows
 * (and, the same, columns) [o·jump + start, o·jump + start + size), before clipping to the
 * image. A negative start means the first windows hang over the zero padding.
 */
export interface ReceptiveField {
  /** Side of the square window, in input pixels. */
  size: number;
  /** Input pixels between the windows of neighbouring output positions. */
  jump: number;
  /** Input row (and column) where output position 0's window begins. */
  start: number;
}

/** A sliding window of side k moved by s over an input padded with p zeros on each side. */
interface Window {
  k: number;
  s: number;
  p: number;
}

/**
 * How a layer moves the field: a sliding window, 'keep' (it works position by position),
 * or 'mix' (its outputs see every position, so they have no window).
 */
function windowOfLayer(spec: LayerSpec): Window | 'keep' | 'mix' {
  switch (spec.type) {
    case 'conv2d':
      return { k: spec.kernel, s: spec.stride, p: paddingOf(spec.padding, spec.kernel) };
    case 'maxpool2d':
    case 'avgpool2d':
      return { k: spec.size, s: spec.stride, p: 0 };
    case 'channel_maxpool':
    case 'relu':
    case 'sigmoid':
    case 'tanh':
    case 'leaky_relu':
    case 'prelu':
    case 'elu':
    case 'dropout':
      return 'keep';
    case 'flatten':
    case 'dense':
      return 'mix';
    default: {
      const unknown: never = spec;
      throw new Error(`receptive field of an unknown layer ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * One entry per layer of `specs`: the field of the layer's output units, for layers whose
 * output is still [C, H, W] (conv, pools, channel_maxpool, activations, dropout);
 * undefined from the first flatten/dense on, and for every layer when `inputShape` (the
 * config's model.input) is a vector [D].
 */
export function receptiveFields(specs: readonly LayerSpec[], inputShape: readonly number[]): (ReceptiveField | undefined)[] {
  let field: ReceptiveField | undefined = inputShape.length === 3 ? { size: 1, jump: 1, start: 0 } : undefined;
  return specs.map((spec) => {
    if (field === undefined) return undefined;
    const window = windowOfLayer(spec);
    if (window === 'mix') field = undefined;
    else if (window !== 'keep') {
      const { size, jump, start } = field;
      field = { size: size + (window.k - 1) * jump, jump: jump * window.s, start: start - window.p * jump };
    }
    return field;
  });
}

/**
 * The input window of output position (oy, ox), clipped to an inH × inW image: half-open
 * rows [y0, y1), columns [x0, x1). Clipping drops the padding, which holds no pixels.
 */
export function windowOf(
  field: ReceptiveField,
  oy: number,
  ox: number,
  inH: number,
  inW: number,
): { y0: number; y1: number; x0: number; x1: number } {
  const top = oy * field.jump + field.start;
  const left = ox * field.jump + field.start;
  return {
    y0: clamp(top, 0, inH),
    y1: clamp(top + field.size, 0, inH),
    x0: clamp(left, 0, inW),
    x1: clamp(left + field.size, 0, inW),
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
