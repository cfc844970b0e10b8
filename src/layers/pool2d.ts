import type { Kernels } from '../tensor/kernels.js';
import type { FloatArray } from '../tensor/types.js';
import { type Layer, type LayerContext, SignatureHash, Workspace } from './layer.js';
import { imageInput, slidingOutput } from './spatial.js';

export interface Pool2dOptions {
  /** Side of the square window. */
  size: number;
  /** Step between windows; the schema fills in `size` (windows that tile the map). */
  stride: number;
}

/**
 * Spatial pooling (tutorial, "Pooling applies a non-parameterized operation on a receptive
 * field"): each channel separately, a size×size window slides with step `stride` (no
 * padding; windows overlap when stride < size), giving [C, Hout, Wout] with
 * Hout = floor((H − size)/stride) + 1, as PyTorch's MaxPool2d/AvgPool2d.
 */
abstract class Pool2d implements Layer {
  abstract readonly type: string;
  readonly name: string;
  readonly outputShape: readonly number[];
  readonly params = [];
  protected readonly channels: number;
  protected readonly inH: number;
  protected readonly inW: number;
  protected readonly outH: number;
  protected readonly outW: number;
  protected readonly size: number;
  protected readonly stride: number;
  protected readonly kernels: Kernels;
  private readonly y: Workspace;
  private readonly dxs: Workspace;
  /** windowStarts' buffer, for the largest batch seen so far. */
  private starts = new Int32Array(0);

  constructor(options: Pool2dOptions, ctx: LayerContext, type: string) {
    this.name = ctx.name;
    this.kernels = ctx.kernels;
    const input = imageInput(ctx, type);
    this.channels = input.channels;
    this.inH = input.height;
    this.inW = input.width;
    this.size = options.size;
    this.stride = options.stride;
    const out = slidingOutput(ctx, input, input.channels, { what: 'pooling window', size: this.size, stride: this.stride, pad: 0 });
    this.outH = out.height;
    this.outW = out.width;
    this.outputShape = [this.channels, this.outH, this.outW];
    this.y = new Workspace(ctx.dtype, this.channels * this.outH * this.outW);
    this.dxs = new Workspace(ctx.dtype, this.channels * this.inH * this.inW);
  }

  forward(x: FloatArray, n: number, _training = true): FloatArray {
    const y = this.y.get(n);
    this.pool(x, y, n);
    return y;
  }

  backward(dy: FloatArray, n: number, needInput: boolean): FloatArray {
    const dx = this.dxs.get(needInput ? n : 0);
    if (!needInput) return dx;
    dx.fill(0, 0, n * this.channels * this.inH * this.inW);
    this.unpool(dy, dx, n);
    return dx;
  }

  /**
   * The top-left input of every window of n samples: entry o, for output o of y
   * (n, C, Hout, Wout), is a flat index into x (n, C, H, W). The batch order makes a
   * smaller batch's list a prefix of a larger one's, so one buffer is grown on demand.
   */
  protected windowStarts(n: number): Int32Array {
    const { inH: H, inW: W, outH, outW, stride } = this;
    const count = n * this.channels * outH * outW;
    if (this.starts.length < count) {
      const starts = new Int32Array(count);
      let o = 0;
      for (let plane = 0; plane < n * this.channels; plane++) {
        const base = plane * H * W;
        for (let oy = 0; oy < outH; oy++) {
          for (let ox = 0; ox < outW; ox++, o++) starts[o] = base + oy * stride * W + ox * stride;
        }
      }
      this.starts = starts;
    }
    return this.starts.subarray(0, count);
  }

  /** y (n, C, Hout, Wout) ← the pooled windows of x (n, C, H, W). */
  protected abstract pool(x: FloatArray, y: FloatArray, n: number): void;
  /** dx (n, C, H, W), zeroed, += the share of dy (n, C, Hout, Wout) each input cell had. */
  protected abstract unpool(dy: FloatArray, dx: FloatArray, n: number): void;
}

/**
 * Max pooling: y = the largest value of each window. Its derivative is 1 at the window's
 * argmax and 0 elsewhere, so backward routes dy to that one input; with overlapping windows
 * an input that wins several windows receives the sum. On ties the first maximum in
 * row-major order wins (a NaN wins too, so it propagates as in PyTorch).
 *
 * The argmax is a kink: where two inputs of a window are equal the derivative jumps.
 */
export class MaxPool2d extends Pool2d {
  readonly type = 'maxpool2d';
  /** Flat index into the batch x of each output's argmax, from the last forward. */
  private argmax: Int32Array = new Int32Array(0);
  private count = 0;

  constructor(options: Pool2dOptions, ctx: LayerContext) {
    super(options, ctx, 'maxpool2d');
  }

  protected pool(x: FloatArray, y: FloatArray, n: number): void {
    const { channels, inH, inW, size, stride, outH, outW } = this;
    const count = n * channels * outH * outW;
    if (this.argmax.length < count) this.argmax = new Int32Array(count);
    this.kernels.maxPool(x, y, this.argmax, n * channels, inH, inW, size, stride, outH, outW);
    this.count = count;
  }

  /**
   * Four outputs at a time, their indices and gradients loaded before the four additions
   * (which stay in order, for an input that wins several windows): V8 cannot tell whether
   * an addition to dx changes dy or argmax, so loads behind it waited for it. Over
   * 401k outputs (fashion-cnn's first pool at batch 64), with the zeroing: 0.98 → 0.54 ms
   * (timed with Node 20, synthetic argmax).
   */
  protected unpool(dy: FloatArray, dx: FloatArray): void {
    const { argmax, count } = this;
    const whole = count - (count % 4);
    for (let o = 0; o < whole; o += 4) {
      const i0 = argmax[o]!;
      const i1 = argmax[o + 1]!;
      const i2 = argmax[o + 2]!;
      const i3 = argmax[o + 3]!;
      const g0 = dy[o]!;
      const g1 = dy[o + 1]!;
      const g2 = dy[o + 2]!;
      const g3 = dy[o + 3]!;
      dx[i0]! += g0;
      dx[i1]! += g1;
      dx[i2]! += g2;
      dx[i3]! += g3;
    }
    for (let o = whole; o < count; o++) dx[argmax[o]!]! += dy[o]!;
  }

  /** Which input won every window in the last forward. */
  kinkSignature(): number {
    const hash = new SignatureHash();
    for (let o = 0; o < this.count; o++) hash.add(this.argmax[o]!);
    return hash.value;
  }
}

/**
 * Average pooling: y = the mean of each window; every input of a window gets dy/size²
 * (summed over the windows it belongs to). Linear, hence smooth: no kink signature.
 */
export class AvgPool2d extends Pool2d {
  readonly type = 'avgpool2d';

  constructor(options: Pool2dOptions, ctx: LayerContext) {
    super(options, ctx, 'avgpool2d');
  }

  protected pool(x: FloatArray, y: FloatArray, n: number): void {
    const { inW: W, size } = this;
    const scale = 1 / (size * size);
    const starts = this.windowStarts(n);
    for (let o = 0; o < starts.length; o++) {
      const start = starts[o]!;
      let sum = 0;
      for (let i = 0; i < size; i++) {
        const line = start + i * W;
        for (let j = 0; j < size; j++) sum += x[line + j]!;
      }
      y[o] = sum * scale;
    }
  }

  protected unpool(dy: FloatArray, dx: FloatArray, n: number): void {
    const { inW: W, size } = this;
    const scale = 1 / (size * size);
    const starts = this.windowStarts(n);
    for (let o = 0; o < starts.length; o++) {
      const start = starts[o]!;
      const share = dy[o]! * scale;
      for (let i = 0; i < size; i++) {
        const line = start + i * W;
        for (let j = 0; j < size; j++) dx[line + j]! += share;
      }
    }
  }
}
