import type { Kernels } from '../tensor/kernels.js';
import type { FloatArray } from '../tensor/types.js';
import { sizeOf } from '../tensor/types.js';
import { type Layer, type LayerContext, SignatureHash, Workspace } from './layer.js';

/**
 * An elementwise nonlinearity y = h(x) whose derivative can be written in terms of
 * its output y, so the forward pass caches y alone (x is not kept).
 */
abstract class OutputCachedActivation implements Layer {
  abstract readonly type: string;
  readonly name: string;
  readonly outputShape: readonly number[];
  readonly params = [];
  private readonly size: number;
  private readonly out: Workspace;
  private readonly dxs: Workspace;
  private y: FloatArray | undefined;
  /** Elements in the last forward: n · size. */
  private count = 0;

  constructor(ctx: LayerContext) {
    this.name = ctx.name;
    this.outputShape = ctx.inputShape;
    this.size = sizeOf(ctx.inputShape);
    this.out = new Workspace(ctx.dtype, this.size);
    this.dxs = new Workspace(ctx.dtype, this.size);
  }

  /** y[i] = h(x[i]) for i < count. */
  protected abstract apply(x: FloatArray, y: FloatArray, count: number): void;
  /** dx[i] = dy[i] · h'(x[i]), written with y[i] = h(x[i]). */
  protected abstract derive(y: FloatArray, dy: FloatArray, dx: FloatArray, count: number): void;

  forward(x: FloatArray, n: number, _training = true): FloatArray {
    const y = this.out.get(n);
    this.apply(x, y, n * this.size);
    this.keep(y, n);
    return y;
  }

  /** Cache y, [n × size], as the output of the last forward. */
  protected keep(y: FloatArray, n: number): void {
    this.y = y;
    this.count = n * this.size;
  }

  backward(dy: FloatArray, n: number, _needInput = true): FloatArray {
    if (!this.y) throw new Error(`${this.name}: backward before forward`);
    const dx = this.dxs.get(n);
    this.derive(this.y, dy, dx, n * this.size);
    return dx;
  }

  /**
   * Kink signature for activations whose only kink is at x = 0 and whose output is
   * positive exactly when x is: a hash of y > 0 over the last forward.
   */
  protected positiveSignature(): number {
    const hash = new SignatureHash();
    const y = this.y;
    if (y) for (let i = 0; i < this.count; i++) hash.add(y[i]! > 0 ? 1 : 0);
    return hash.value;
  }
}

/** ReLU: y = max(0, x); dy/dx = 1 where x > 0, else 0 (0 at the kink, as PyTorch). */
export class Relu extends OutputCachedActivation {
  readonly type = 'relu';
  private readonly kernels: Kernels;
  /** In training, the dense layer before applies this ReLU in its forward (fuseRelus). */
  private appliedBefore = false;
  /** The dense layer after applies this ReLU's derivative in its backward (fuseRelus). */
  private derivedAfter = false;

  constructor(ctx: LayerContext) {
    super(ctx);
    this.kernels = ctx.kernels;
  }

  /** Leave the forward pass in training to the dense layer before, which rectifies its own output. */
  fusePrecedingDense(): void {
    this.appliedBefore = true;
  }

  /** Leave the backward pass to the dense layer after, which masks its own input gradient. */
  fuseFollowingDense(): void {
    this.derivedAfter = true;
  }

  override forward(x: FloatArray, n: number, training = true): FloatArray {
    if (!(training && this.appliedBefore)) return super.forward(x, n, training);
    this.keep(x, n); // x is rectified already
    return x;
  }

  override backward(dy: FloatArray, n: number, needInput = true): FloatArray {
    return this.derivedAfter ? dy : super.backward(dy, n, needInput);
  }

  protected apply(x: FloatArray, y: FloatArray, count: number): void {
    this.kernels.relu(x, y, count);
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray, count: number): void {
    this.kernels.reluGrad(y, dy, dx, count);
  }
  /** The derivative jumps from 0 to 1 at x = 0. */
  kinkSignature(): number {
    return this.positiveSignature();
  }
}

/** Sigmoid: y = 1 / (1 + e^−x); dy/dx = y(1 − y). */
export class Sigmoid extends OutputCachedActivation {
  readonly type = 'sigmoid';
  protected apply(x: FloatArray, y: FloatArray, count: number): void {
    for (let i = 0; i < count; i++) {
      const v = x[i]!;
      // Branch so that exp never overflows: for v < 0 use e^v / (1 + e^v).
      if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
      else {
        const e = Math.exp(v);
        y[i] = e / (1 + e);
      }
    }
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray, count: number): void {
    for (let i = 0; i < count; i++) {
      const s = y[i]!;
      dx[i] = dy[i]! * s * (1 - s);
    }
  }
}

/** Tanh: y = (e^2x − 1)/(e^2x + 1); dy/dx = 1 − y². */
export class Tanh extends OutputCachedActivation {
  readonly type = 'tanh';
  protected apply(x: FloatArray, y: FloatArray, count: number): void {
    for (let i = 0; i < count; i++) y[i] = Math.tanh(x[i]!);
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray, count: number): void {
    for (let i = 0; i < count; i++) {
      const t = y[i]!;
      dx[i] = dy[i]! * (1 - t * t);
    }
  }
}

/**
 * Leaky ReLU (tutorial, "many attempts to improve RELUs"): y = max(αx, x), i.e. x for
 * x > 0 and αx otherwise, so a unit pushed negative still passes a gradient α and cannot
 * "die" as a ReLU can. dy/dx = 1 where x > 0, else α; at the kink x = 0 we take the
 * x ≤ 0 branch (α), as Relu does (0 there).
 *
 * The schema keeps 0 ≤ α < 1, so y > 0 exactly when x > 0 and the derivative can be read
 * off the output. With α = 0 this is ReLU (negative inputs give −0, which is harmless).
 */
export class LeakyRelu extends OutputCachedActivation {
  readonly type = 'leaky_relu';
  constructor(
    ctx: LayerContext,
    readonly alpha: number,
  ) {
    super(ctx);
  }
  protected apply(x: FloatArray, y: FloatArray, count: number): void {
    const alpha = this.alpha;
    for (let i = 0; i < count; i++) {
      const v = x[i]!;
      y[i] = v > 0 ? v : alpha * v;
    }
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray, count: number): void {
    const alpha = this.alpha;
    for (let i = 0; i < count; i++) dx[i] = y[i]! > 0 ? dy[i]! : alpha * dy[i]!;
  }
  /** The derivative jumps from α to 1 at x = 0 (the schema keeps α < 1, so always a kink). */
  kinkSignature(): number {
    return this.positiveSignature();
  }
}

/**
 * ELU (Clevert et al. 2016; tutorial, "exponential RELUs"): y = x for x > 0, else
 * α(eˣ − 1), which saturates smoothly at −α and pushes mean activations towards zero.
 * dy/dx = 1 for x > 0, else αeˣ = y + α, so the output alone suffices (as in PyTorch).
 * At x = 0 we take the x ≤ 0 branch: derivative α (equal to 1 only when α = 1).
 *
 * eˣ − 1 is computed with Math.expm1, which keeps full precision for small |x| where
 * exp(x) − 1 would cancel; for very negative x it tends to −1, so y → −α and the
 * derivative → 0 without overflow or NaN.
 */
export class Elu extends OutputCachedActivation {
  readonly type = 'elu';
  /**
   * The derivative is α just left of 0 and 1 just right: a kink unless α = 1, where ELU
   * is continuously differentiable (only its second derivative jumps) and counts as smooth.
   */
  readonly kinkSignature: (() => number) | undefined;
  constructor(
    ctx: LayerContext,
    readonly alpha: number,
  ) {
    super(ctx);
    this.kinkSignature = alpha !== 1 ? () => this.positiveSignature() : undefined;
  }
  protected apply(x: FloatArray, y: FloatArray, count: number): void {
    const alpha = this.alpha;
    for (let i = 0; i < count; i++) {
      const v = x[i]!;
      y[i] = v > 0 ? v : alpha * Math.expm1(v);
    }
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray, count: number): void {
    const alpha = this.alpha;
    for (let i = 0; i < count; i++) {
      const out = y[i]!;
      // For x ≤ 0, y ∈ (−α, 0], so y > 0 identifies the x > 0 branch.
      dx[i] = out > 0 ? dy[i]! : dy[i]! * (out + alpha);
    }
  }
}
