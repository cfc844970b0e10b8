import type { InitSpec } from '../config/schema.js';
import { initializer } from '../init/initializers.js';
import type { Kernels } from '../tensor/kernels.js';
import type { FloatArray } from '../tensor/types.js';
import { createParam, type Layer, type LayerContext, type Param, Workspace } from './layer.js';
import { imageInput, slidingOutput } from './spatial.js';

export interface Conv2dOptions {
  filters: number;
  /** Side k of the square k×k kernel. */
  kernel: number;
  stride: number;
  /** `valid` (no padding), `same` (stride 1, odd k: pad (k − 1)/2, keeps H×W) or zeros on each side. */
  padding: 'valid' | 'same' | number;
  init: InitSpec;
  bias_init: InitSpec;
}

/** Zeros added on each side for a padding option. `same` is checked by the schema (stride 1, odd k). */
export function paddingOf(padding: Conv2dOptions['padding'], kernel: number): number {
  if (padding === 'valid') return 0;
  if (padding === 'same') return (kernel - 1) / 2;
  return padding;
}

/**
 * 2-D convolution (tutorial, "Convolutional networks"): F filters of size C×k×k slide over
 * the zero-padded input with step s; each position gives one output per filter,
 *
 *   y[n, f, oy, ox] = b[f] + Σ_{c, i, j} W[f, c, i, j] · x[n, c, oy·s − p + i, ox·s − p + j],
 *
 * a cross-correlation (the filter is not flipped), as PyTorch's Conv2d, so W is
 * [F, C, k, k] in PyTorch's layout and snapshots load there unchanged.
 *
 * As the tutorial suggests, the convolution is turned into one matrix product (im2col):
 * every receptive field of every sample becomes a column of M, [C·k·k × N·P] with
 * P = Hout·Wout, and Y = W·M is [F × N·P] — a single GEMM for the whole batch — which
 * is then reordered into [N, F, Hout, Wout]. Backward reuses M: dW += dYᵀ-ordered · Mᵀ,
 * dM = Wᵀ · dY, and col2im adds each column of dM back into the receptive field it came
 * from (fields overlap whenever s < k, so the additions accumulate).
 */
export class Conv2d implements Layer {
  readonly type = 'conv2d';
  readonly writesGrads = true;
  readonly name: string;
  readonly outputShape: readonly number[];
  readonly params: readonly Param[];
  private readonly weight: Param;
  private readonly bias: Param;
  private readonly kernels: Kernels;
  private readonly inC: number;
  private readonly inH: number;
  private readonly inW: number;
  private readonly filters: number;
  private readonly k: number;
  private readonly stride: number;
  private readonly pad: number;
  private readonly outH: number;
  private readonly outW: number;
  /** im2col matrix M, [C·k·k × n·P]; kept from forward for dW. */
  private readonly cols: Workspace;
  /** Filter-major results, [F × n·P]: W·M in forward, dy reordered in backward. */
  private readonly filterMajor: Workspace;
  private readonly y: Workspace;
  /** dM = Wᵀ·dY, [C·k·k × n·P]. */
  private readonly dcols: Workspace;
  private readonly dx: Workspace;
  /** Samples in the last forward. */
  private n = -1;

  constructor(options: Conv2dOptions, ctx: LayerContext) {
    this.name = ctx.name;
    this.kernels = ctx.kernels;
    const input = imageInput(ctx, 'conv2d');
    this.inC = input.channels;
    this.inH = input.height;
    this.inW = input.width;
    this.filters = options.filters;
    this.k = options.kernel;
    this.stride = options.stride;
    this.pad = paddingOf(options.padding, options.kernel);
    if (!Number.isInteger(this.pad)) throw new Error(`${this.name}: padding "same" needs an odd kernel (the schema checks this)`);
    const out = slidingOutput(ctx, input, this.filters, { what: 'kernel', size: this.k, stride: this.stride, pad: this.pad });
    this.outH = out.height;
    this.outW = out.width;
    this.outputShape = [this.filters, this.outH, this.outW];

    const fanIn = this.inC * this.k * this.k; // a unit sums over one C×k×k receptive field
    this.weight = createParam('weight', [this.filters, this.inC, this.k, this.k], ctx.dtype, true);
    this.bias = createParam('bias', [this.filters], ctx.dtype, false);
    this.params = [this.weight, this.bias];
    initializer(options.init)(this.weight.value, fanIn, ctx.rng);
    initializer(options.bias_init)(this.bias.value, fanIn, ctx.rng);

    const positions = this.outH * this.outW;
    this.cols = new Workspace(ctx.dtype, fanIn * positions);
    this.filterMajor = new Workspace(ctx.dtype, this.filters * positions);
    this.y = new Workspace(ctx.dtype, this.filters * positions);
    this.dcols = new Workspace(ctx.dtype, fanIn * positions);
    this.dx = new Workspace(ctx.dtype, this.inC * this.inH * this.inW);
  }

  forward(x: FloatArray, n: number, _training = true): FloatArray {
    // x is (n, C, H, W), M is (C·k·k, n·P), W is (F, C·k·k), W·M is (F, n·P), y is (n, F, P)
    const { filters: F, k } = this;
    const P = this.outH * this.outW;
    const cols = this.cols.get(n);
    this.kernels.im2col(cols, x, n, this.inC, this.inH, this.inW, k, this.stride, this.pad, this.outH, this.outW);
    const wm = this.filterMajor.get(n);
    this.kernels.gemm(false, false, F, n * P, this.inC * k * k, this.weight.value, cols, wm, false);
    const y = this.y.get(n);
    this.kernels.addBiasSampleMajor(y, wm, this.bias.value, F, n, P);
    this.n = n;
    return y;
  }

  backward(dy: FloatArray, n: number, needInput: boolean, gradsZero = false): FloatArray {
    // dy is (n, F, P); dY is (F, n·P): db += Σ dY rows; dW += dY·Mᵀ is (F, C·k·k); dM = Wᵀ·dY; dx = col2im(dM)
    // (with gradsZero, dW and db are written: = instead of +=)
    if (this.n !== n) throw new Error(`${this.name}: backward for ${n} samples after a forward of ${this.n}`);
    const { filters: F, k } = this;
    const P = this.outH * this.outW;
    const K = this.inC * k * k;
    const dY = this.filterMajor.get(n);
    if (gradsZero) this.bias.grad.fill(0);
    this.kernels.filterMajorBiasGrad(dY, dy, this.bias.grad, F, n, P);
    const cols = this.cols.get(n);
    this.kernels.gemm(false, true, F, K, n * P, dY, cols, this.weight.grad, !gradsZero);
    const dx = this.dx.get(needInput ? n : 0);
    if (!needInput) return dx;
    const dcols = this.dcols.get(n);
    this.kernels.gemm(true, false, K, n * P, F, this.weight.value, dY, dcols, false);
    this.kernels.col2im(dx, dcols, n, this.inC, this.inH, this.inW, k, this.stride, this.pad, this.outH, this.outW);
    return dx;
  }
}
