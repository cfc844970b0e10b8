import type { FloatArray } from '../tensor/types.js';
import { sizeOf } from '../tensor/types.js';
import { createParam, type Layer, type LayerContext, type Param, SignatureHash, Workspace } from './layer.js';

export interface PreluOptions {
  /** Initial slope for negative inputs (He et al. start at 0.25). */
  init: number;
  /** One slope for the whole layer instead of one per channel. */
  shared: boolean;
}

/**
 * Parametric ReLU (He et al. 2015, "Delving Deep into Rectifiers"; tutorial: "learning α:
 * Parametric RELU"): y = x for x > 0, else a·x, where the slope a is learned.
 *
 * There is one slope per channel — the first dimension of a sample, so C for [C, H, W]
 * inputs and every unit for [D] inputs (PyTorch's `PReLU(num_parameters=C)`) — or a
 * single one when `shared`. The parameter is `alpha`, shape [C] (or [1]), and is not a
 * weight: He et al. do not decay it, since decay would pull every unit towards ReLU.
 *
 * dy/dx = 1 for x > 0, else a; dy/da = x for x ≤ 0, else 0. At the kink x = 0 the
 * x ≤ 0 branch is used (slope a, and a contributes x = 0 to its own gradient). Since a may
 * be negative, the output no longer tells the branch, so forward caches x.
 */
export class Prelu implements Layer {
  readonly type = 'prelu';
  readonly name: string;
  readonly outputShape: readonly number[];
  readonly params: readonly Param[];
  private readonly alpha: Param;
  private readonly channels: number;
  /** Elements per channel in one sample: H·W for images, 1 for vectors. */
  private readonly spatial: number;
  private readonly shared: boolean;
  private readonly y: Workspace;
  private readonly dx: Workspace;
  private x: FloatArray | undefined;
  /** Samples in the last forward. */
  private n = 0;

  constructor(options: PreluOptions, ctx: LayerContext) {
    this.name = ctx.name;
    this.outputShape = ctx.inputShape;
    this.channels = ctx.inputShape[0]!;
    this.spatial = sizeOf(ctx.inputShape) / this.channels;
    this.shared = options.shared;
    this.alpha = createParam('alpha', [options.shared ? 1 : this.channels], ctx.dtype, false);
    this.alpha.value.fill(options.init);
    this.params = [this.alpha];
    const size = sizeOf(ctx.inputShape);
    this.y = new Workspace(ctx.dtype, size);
    this.dx = new Workspace(ctx.dtype, size);
  }

  forward(x: FloatArray, n: number, _training = true): FloatArray {
    // x is (n, C, S) with S = H·W (or (n, D, 1)); alpha is (C) or (1); y is like x
    const y = this.y.get(n);
    const a = this.alpha.value;
    const { channels: C, spatial: S } = this;
    let i = 0;
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < C; c++) {
        const slope = a[this.shared ? 0 : c]!;
        for (const end = i + S; i < end; i++) {
          const v = x[i]!;
          y[i] = v > 0 ? v : slope * v;
        }
      }
    }
    this.x = x;
    this.n = n;
    return y;
  }

  /**
   * The derivative in x jumps from a to 1 at x = 0: a hash of x > 0 over the last forward.
   * (In the slope a itself the layer is linear, so it adds no kink there.)
   */
  kinkSignature(): number {
    const hash = new SignatureHash();
    const x = this.x;
    const count = this.n * this.channels * this.spatial;
    if (x) for (let i = 0; i < count; i++) hash.add(x[i]! > 0 ? 1 : 0);
    return hash.value;
  }

  backward(dy: FloatArray, n: number, needInput: boolean): FloatArray {
    // dy is (n, C, S): dalpha[c] += Σ_{x ≤ 0} dy·x over samples and positions; dx = dy·slope
    const x = this.x;
    if (!x) throw new Error(`${this.name}: backward before forward`);
    const a = this.alpha.value;
    const da = this.alpha.grad;
    const { channels: C, spatial: S } = this;
    const dx = this.dx.get(needInput ? n : 0);
    let i = 0;
    for (let s = 0; s < n; s++) {
      for (let c = 0; c < C; c++) {
        const k = this.shared ? 0 : c;
        const slope = a[k]!;
        // Sum in a double before touching the (possibly float32) grad.
        let sum = 0;
        for (const end = i + S; i < end; i++) {
          const v = x[i]!;
          const g = dy[i]!;
          if (v > 0) {
            if (needInput) dx[i] = g;
          } else {
            sum += g * v;
            if (needInput) dx[i] = g * slope;
          }
        }
        da[k]! += sum;
      }
    }
    return dx;
  }
}
