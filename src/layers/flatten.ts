import type { FloatArray } from '../tensor/types.js';
import { sizeOf } from '../tensor/types.js';
import type { Layer, LayerContext } from './layer.js';

/**
 * [C, H, W] → [C·H·W], reading C, H, W in row-major order (SPEC §3). Batches are
 * already stored that way, so data passes through untouched in both directions.
 */
export class Flatten implements Layer {
  readonly type = 'flatten';
  readonly name: string;
  readonly outputShape: readonly number[];
  readonly params = [];

  constructor(ctx: LayerContext) {
    this.name = ctx.name;
    this.outputShape = [sizeOf(ctx.inputShape)];
  }

  forward(x: FloatArray, _n?: number, _training?: boolean): FloatArray {
    return x;
  }

  backward(dy: FloatArray, _n?: number, _needInput?: boolean): FloatArray {
    return dy;
  }
}
