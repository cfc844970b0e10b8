import type { InitSpec } from '../config/schema.js';
import { InputError } from '../errors.js';
import { initializer } from '../init/initializers.js';
import type { Kernels } from '../tensor/kernels.js';
import type { FloatArray } from '../tensor/types.js';
import { sizeOf } from '../tensor/types.js';
import { createParam, type Layer, type LayerContext, locationOf, type Param, Workspace } from './layer.js';

export interface DenseOptions {
  units: number;
  init: InitSpec;
  bias_init: InitSpec;
}

/**
 * Fully connected layer: y = x·Wᵀ + b (tutorial: f(x) = W·x + b, per sample).
 * x is [n × in], W is [out × in] (PyTorch's layout, so snapshots load unchanged),
 * b is [out], y is [n × out].
 */
export class Dense implements Layer {
  readonly type = 'dense';
  readonly writesGrads = true;
  readonly name: string;
  readonly outputShape: readonly number[];
  readonly params: readonly Param[];
  private readonly weight: Param;
  private readonly bias: Param;
  private readonly inSize: number;
  private readonly outSize: number;
  private readonly kernels: Kernels;
  private readonly y: Workspace;
  private readonly dx: Workspace;
  private x: FloatArray | undefined;
  /** In training, forward also applies the ReLU layer that follows (fuseRelus). */
  private rectifies = false;
  /** Backward masks dx where the input, the ReLU layer before's output, is not positive (fuseRelus). */
  private masksInputGrad = false;

  constructor(options: DenseOptions, ctx: LayerContext) {
    if (ctx.inputShape.length !== 1) {
      throw new InputError(
        `${locationOf(ctx)}: dense needs one vector per sample but receives shape [${ctx.inputShape.join(', ')}]; add "- flatten" before it`,
      );
    }
    this.name = ctx.name;
    this.kernels = ctx.kernels;
    this.inSize = sizeOf(ctx.inputShape);
    this.outSize = options.units;
    this.outputShape = [this.outSize];
    this.weight = createParam('weight', [this.outSize, this.inSize], ctx.dtype, true);
    this.bias = createParam('bias', [this.outSize], ctx.dtype, false);
    this.params = [this.weight, this.bias];
    // fan_in of a dense unit is the number of inputs it sums over.
    initializer(options.init)(this.weight.value, this.inSize, ctx.rng);
    initializer(options.bias_init)(this.bias.value, this.inSize, ctx.rng);
    this.y = new Workspace(ctx.dtype, this.outSize);
    this.dx = new Workspace(ctx.dtype, this.inSize);
  }

  /** Let the ReLU layer that follows be applied by this layer's forward, in training. */
  fuseFollowingRelu(): void {
    this.rectifies = true;
  }

  /** Let the ReLU layer before have its gradient applied by this layer's backward. */
  fusePrecedingRelu(): void {
    this.masksInputGrad = true;
  }

  forward(x: FloatArray, n: number, training = true): FloatArray {
    // x is (n, in), W is (out, in), y is (n, out); y = max(y, 0) as well when fused with the ReLU after
    const y = this.y.get(n);
    this.kernels.gemmBias(false, true, n, this.outSize, this.inSize, x, this.weight.value, y, this.bias.value, training && this.rectifies);
    this.x = x;
    return y;
  }

  backward(dy: FloatArray, n: number, needInput: boolean, gradsZero = false): FloatArray {
    // dy is (n, out): dW += dyᵀ·x is (out, in); db += Σ_rows dy; dx = dy·W is (n, in)
    // (with gradsZero, dW and db are written: = instead of +=; fused with the ReLU before,
    // dx = 0 where x ≤ 0, its derivative there)
    const x = this.x;
    if (!x) throw new Error(`${this.name}: backward before forward`);
    const out = this.outSize;
    this.kernels.gemm(true, false, out, this.inSize, n, dy, x, this.weight.grad, !gradsZero);
    if (gradsZero) this.bias.grad.fill(0);
    this.kernels.biasGrad(this.bias.grad, dy, n, out);
    const dx = this.dx.get(needInput ? n : 0);
    if (needInput && this.masksInputGrad) this.kernels.gemmReluGrad(false, false, n, this.inSize, out, dy, this.weight.value, dx, x);
    else if (needInput) this.kernels.gemm(false, false, n, this.inSize, out, dy, this.weight.value, dx, false);
    return dx;
  }
}
