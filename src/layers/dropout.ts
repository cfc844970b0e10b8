import type { FloatArray } from '../tensor/types.js';
import { sizeOf } from '../tensor/types.js';
import type { Rng } from '../util/rng.js';
import { type Layer, type LayerContext, Workspace } from './layer.js';

export interface DropoutOptions {
  /** Probability of dropping a unit, 0 ≤ rate < 1. */
  rate: number;
}

/**
 * Inverse dropout (Srivastava et al. 2014; tutorial, "Dropout" and "modern version:
 * inverse dropout"). In training each unit is kept with probability p = 1 − rate and
 * scaled by 1/p, so its expected value is unchanged and evaluation needs no correction:
 * at evaluation the layer is the identity (it returns its input, not a copy).
 * rate = 0 is the identity in training too, and draws nothing.
 *
 * Masks come from `ctx.noise`, the training-time stream the network's layers share: one
 * `nextFloat()` per unit, in row-major batch order, dropping the unit when the draw is
 * below `rate`. That stream is derived from the seed and saved in snapshots, so the same
 * seed gives the same masks and a resumed run draws the masks it would have drawn.
 */
export class Dropout implements Layer {
  readonly type = 'dropout';
  readonly name: string;
  readonly outputShape: readonly number[];
  readonly params = [];
  readonly rate: number;
  private readonly size: number;
  private readonly noise: Rng;
  /** Per unit of the last training batch: 0 (dropped) or 1/p (kept), in the layer dtype. */
  private readonly masks: Workspace;
  private readonly y: Workspace;
  private readonly dx: Workspace;
  /** How the last forward ran: backward must apply the same map. */
  private mode: 'none' | 'identity' | 'masked' = 'none';

  constructor(options: DropoutOptions, ctx: LayerContext) {
    if (!(options.rate >= 0 && options.rate < 1)) {
      throw new Error(`${ctx.name}: dropout rate must be in [0, 1), got ${options.rate}`);
    }
    this.name = ctx.name;
    this.outputShape = ctx.inputShape;
    this.rate = options.rate;
    this.size = sizeOf(ctx.inputShape);
    this.noise = ctx.noise;
    this.masks = new Workspace(ctx.dtype, this.size);
    this.y = new Workspace(ctx.dtype, this.size);
    this.dx = new Workspace(ctx.dtype, this.size);
  }

  forward(x: FloatArray, n: number, training: boolean): FloatArray {
    if (!training || this.rate === 0) {
      this.mode = 'identity';
      return x;
    }
    // x, mask and y are (n, size)
    const count = n * this.size;
    const mask = this.masks.get(n);
    const y = this.y.get(n);
    const rate = this.rate;
    const scale = 1 / (1 - rate);
    for (let i = 0; i < count; i++) {
      const m = this.noise.nextFloat() < rate ? 0 : scale;
      mask[i] = m;
      y[i] = x[i]! * mask[i]!;
    }
    this.mode = 'masked';
    return y;
  }

  backward(dy: FloatArray, n: number, needInput: boolean): FloatArray {
    // dx = dy ⊙ mask, the same mask (and 1/p scale) as the forward pass
    if (this.mode === 'none') throw new Error(`${this.name}: backward before forward`);
    if (this.mode === 'identity') return dy;
    const dx = this.dx.get(needInput ? n : 0);
    if (!needInput) return dx;
    const mask = this.masks.get(n);
    const count = n * this.size;
    for (let i = 0; i < count; i++) dx[i] = dy[i]! * mask[i]!;
    return dx;
  }
}
