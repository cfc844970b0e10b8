import type { FloatArray } from './types.js';
import { gemm } from './gemm.js';

/**
 * The compute kernels that dominate training time. Layers call these and nothing
 * else for heavy arithmetic, so that a faster backend (a native addon) can replace
 * them wholesale. All matrices are row-major and contiguous.
 */
export interface Kernels {
  readonly name: string;
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
}

/** The pure-JavaScript backend: a cache- and register-blocked GEMM. */
export const jsKernels: Kernels = { name: 'js', gemm };
