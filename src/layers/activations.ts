import type { FloatArray } from '../tensor/types.js';
import { sizeOf } from '../tensor/types.js';
import { Workspace, type Layer, type LayerContext } from './layer.js';

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

  forward(x: FloatArray, n: number): FloatArray {
    const y = this.out.get(n);
    this.apply(x, y, n * this.size);
    this.y = y;
    return y;
  }

  backward(dy: FloatArray, n: number): FloatArray {
    if (!this.y) throw new Error(`${this.name}: backward before forward`);
    const dx = this.dxs.get(n);
    this.derive(this.y, dy, dx, n * this.size);
    return dx;
  }
}

/** ReLU: y = max(0, x); dy/dx = 1 where x > 0, else 0 (0 at the kink, as PyTorch). */
export class Relu extends OutputCachedActivation {
  readonly type = 'relu';
  protected apply(x: FloatArray, y: FloatArray, count: number): void {
    for (let i = 0; i < count; i++) {
      const v = x[i]!;
      y[i] = v > 0 ? v : 0;
    }
  }
  protected derive(y: FloatArray, dy: FloatArray, dx: FloatArray, count: number): void {
    for (let i = 0; i < count; i++) dx[i] = y[i]! > 0 ? dy[i]! : 0;
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
