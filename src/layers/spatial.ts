import { InputError } from '../errors.js';
import { type LayerContext, locationOf } from './layer.js';

/** Shape of one image sample. */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** The [C, H, W] input of a spatial layer (conv2d, pooling), or an InputError saying what it got. */
export function imageInput(ctx: LayerContext, type: string): ImageShape {
  const shape = ctx.inputShape;
  if (shape.length !== 3) {
    throw new InputError(
      `${locationOf(ctx)}: ${type} needs an image [C, H, W] per sample but receives shape [${shape.join(', ')}]; set model.input to [C, H, W] and put ${type} before any flatten`,
    );
  }
  return { channels: shape[0]!, height: shape[1]!, width: shape[2]! };
}

/**
 * Positions of a window of `window` cells sliding with step `stride` over `size` cells
 * padded by `pad` on both sides: floor((size + 2·pad − window)/stride) + 1, the formula of
 * PyTorch's Conv2d and MaxPool2d (a last partial step is dropped). Below 1 when the
 * window does not fit.
 */
export function slidingPositions(size: number, window: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - window) / stride) + 1;
}

/**
 * Output height and width of a window sliding over the input, or an InputError naming
 * the layer and both shapes when the window is larger than the (padded) input.
 */
export function slidingOutput(
  ctx: LayerContext,
  input: ImageShape,
  outChannels: number,
  window: { what: string; size: number; stride: number; pad: number },
): { height: number; width: number } {
  const height = slidingPositions(input.height, window.size, window.stride, window.pad);
  const width = slidingPositions(input.width, window.size, window.stride, window.pad);
  if (height < 1 || width < 1) {
    const padded = window.pad > 0 ? ` padded by ${window.pad} on each side (${input.height + 2 * window.pad}×${input.width + 2 * window.pad})` : '';
    throw new InputError(
      `${locationOf(ctx)}: the ${window.size}×${window.size} ${window.what} (stride ${window.stride}) does not fit its input [${input.channels}, ${input.height}, ${input.width}]${padded}: ` +
        `the output would be [${outChannels}, ${height}, ${width}]; use a smaller ${window.what}${window.what === 'kernel' ? ' or more padding' : ''}, or downsample less before this layer`,
    );
  }
  return { height, width };
}
