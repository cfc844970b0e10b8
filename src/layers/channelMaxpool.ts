import { InputError } from '../errors.js';
import type { FloatArray } from '../tensor/types.js';
import { sizeOf } from '../tensor/types.js';
import { type Layer, type LayerContext, locationOf, SignatureHash, Workspace } from './layer.js';

export interface ChannelMaxpoolOptions {
  /** Feature maps (or units) per group. */
  group: number;
}

/**
 * Pooling over feature channels instead of space (tutorial, "pool over feature channels,
 * not spatially": invariance to a family of filters) — maxout (Goodfellow et al. 2013):
 * output channel g is the elementwise max of input channels g·k … g·k + k − 1, so
 * [C, H, W] → [C/k, H, W], and a vector [D] → [D/k] (groups of consecutive units).
 *
 * Backward routes dy to the winning channel of each position; on ties the first channel of
 * the group wins (a NaN wins too, so it propagates). The argmax is a kink.
 */
export class ChannelMaxpool implements Layer {
  readonly type = 'channel_maxpool';
  readonly name: string;
  readonly outputShape: readonly number[];
  readonly params = [];
  private readonly group: number;
  private readonly inChannels: number;
  /** Elements per channel of a sample: H·W for images, 1 for vectors. */
  private readonly spatial: number;
  private readonly y: Workspace;
  private readonly dxs: Workspace;
  /** Flat index into the batch x of each output's winner, from the last forward. */
  private argmax: Int32Array = new Int32Array(0);
  private count = 0;

  constructor(options: ChannelMaxpoolOptions, ctx: LayerContext) {
    this.name = ctx.name;
    const shape = ctx.inputShape;
    const channels = shape[0]!;
    const k = options.group;
    if (channels % k !== 0) {
      const what = shape.length === 1 ? 'units' : 'channels';
      throw new InputError(
        `${locationOf(ctx)}: group ${k} does not divide the ${channels} ${what} of its input [${shape.join(', ')}]; choose a group that divides ${channels}, or change the layer before it`,
      );
    }
    this.group = k;
    this.inChannels = channels;
    this.spatial = sizeOf(shape) / channels;
    this.outputShape = [channels / k, ...shape.slice(1)];
    this.y = new Workspace(ctx.dtype, sizeOf(this.outputShape));
    this.dxs = new Workspace(ctx.dtype, sizeOf(shape));
  }

  forward(x: FloatArray, n: number, _training = true): FloatArray {
    // x is (n, C, S), y is (n, C/k, S): y[i, g, s] = max_j x[i, g·k + j, s]
    const { group: k, inChannels: C, spatial: S } = this;
    const groups = C / k;
    const count = n * groups * S;
    if (this.argmax.length < count) this.argmax = new Int32Array(count);
    const argmax = this.argmax;
    const y = this.y.get(n);
    let o = 0;
    for (let i = 0; i < n; i++) {
      for (let g = 0; g < groups; g++) {
        const first = (i * C + g * k) * S;
        for (let s = 0; s < S; s++, o++) {
          let at = first + s;
          let best = x[at]!;
          for (let j = 1; j < k; j++) {
            const idx = first + j * S + s;
            const v = x[idx]!;
            if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
              best = v;
              at = idx;
            }
          }
          y[o] = best;
          argmax[o] = at;
        }
      }
    }
    this.count = count;
    return y;
  }

  backward(dy: FloatArray, n: number, needInput: boolean): FloatArray {
    // dy is (n, C/k, S); dx is (n, C, S), dy at each winner and 0 elsewhere
    const dx = this.dxs.get(needInput ? n : 0);
    if (!needInput) return dx;
    dx.fill(0, 0, n * this.inChannels * this.spatial);
    const argmax = this.argmax;
    for (let o = 0; o < this.count; o++) dx[argmax[o]!] = dy[o]!;
    return dx;
  }

  /** Which channel won every output in the last forward. */
  kinkSignature(): number {
    const hash = new SignatureHash();
    for (let o = 0; o < this.count; o++) hash.add(this.argmax[o]!);
    return hash.value;
  }
}
