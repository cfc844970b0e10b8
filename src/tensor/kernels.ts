import type { FloatArray } from './types.js';
import { adamStep, sgdMomentumStep, weightDecayGrad } from './elementwise.js';
import { gemm } from './gemm.js';
import { addBiasSampleMajor, col2im, filterMajorBiasGrad, im2col, maxPool } from './spatial.js';

/**
 * The compute kernels that dominate training time. Layers call these and nothing
 * else for heavy arithmetic, so that a faster backend (a native addon) can replace
 * them wholesale. All matrices are row-major and contiguous.
 */
export interface Kernels {
  readonly name: string;
  /** Threads the kernels may use (1 for the JavaScript backend). */
  readonly threads: number;
  /** Why these kernels were chosen, when they are a fallback (no native addon, say). */
  readonly note?: string;
  /**
   * C = op(A)·op(B) (+ C when `accumulate`), where op(A) is [m×k] and op(B) is [k×n].
   * A is stored [m×k], or [k×m] when `transA`; B is [k×n], or [n×k] when `transB`.
   * C is [m×n]. Only the first m·n entries of C are touched.
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    accumulate: boolean,
  ): void;
  /** SGD with momentum over one parameter (see elementwise.ts); w and v are updated. */
  sgdMomentumStep(w: FloatArray, g: FloatArray, v: FloatArray, lr: number, momentum: number, nesterov: boolean): void;
  /** One Adam update over one parameter (see elementwise.ts); w, m and v are updated. */
  adamStep(
    w: FloatArray,
    g: FloatArray,
    m: FloatArray,
    v: FloatArray,
    stepSize: number,
    beta1: number,
    beta2: number,
    sqrtCorrection2: number,
    eps: number,
  ): void;
  /** g += 2·l2·w + l1·sign(w) (see elementwise.ts). */
  weightDecayGrad(w: FloatArray, g: FloatArray, twoL2: number, l1: number): void;
  /** Convolution's unrolling of receptive fields into columns (see spatial.ts). */
  im2col(cols: FloatArray, x: FloatArray, n: number, C: number, H: number, W: number, k: number, s: number, p: number, outH: number, outW: number): void;
  /** The adjoint of im2col (see spatial.ts). */
  col2im(dx: FloatArray, dcols: FloatArray, n: number, C: number, H: number, W: number, k: number, s: number, p: number, outH: number, outW: number): void;
  /** Convolution output: filter-major product to sample-major, plus bias (see spatial.ts). */
  addBiasSampleMajor(y: FloatArray, wm: FloatArray, b: FloatArray, F: number, n: number, P: number): void;
  /** Convolution backward: dy to filter-major, and the bias gradient (see spatial.ts). */
  filterMajorBiasGrad(dY: FloatArray, dy: FloatArray, db: FloatArray, F: number, n: number, P: number): void;
  /** Max pooling's forward pass with its argmax (see spatial.ts). */
  maxPool(x: FloatArray, y: FloatArray, argmax: Int32Array, starts: Int32Array, size: number, W: number): void;
}

/** The pure-JavaScript backend: a cache- and register-blocked GEMM. */
export const jsKernels: Kernels = {
  name: 'js',
  threads: 1,
  gemm,
  sgdMomentumStep,
  adamStep,
  weightDecayGrad,
  im2col,
  col2im,
  addBiasSampleMajor,
  filterMajorBiasGrad,
  maxPool,
};
