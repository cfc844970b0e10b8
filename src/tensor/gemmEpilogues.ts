import { addBias, relu, reluGrad } from './elementwise.js';
import { gemm } from './gemm.js';
import type { FloatArray } from './types.js';

/*
 * Matrix products followed by the elementwise step that comes next in a network: a
 * dense layer's bias and the ReLU after it, or the mask of the ReLU before it. The
 * values are those of the product and the step run one after the other, which is what
 * these JavaScript versions do; the native kernels (native/dlt_native.c) apply the step
 * to each part of the product as soon as it is computed, by the thread that computed it,
 * while that part is still in its core's cache, rather than in passes over the whole
 * result afterwards.
 */

/**
 * C = op(A)·op(B) + bias on every row, then ReLU when `rectify`: gemm, addBias and relu in
 * turn. C is [m×n] and written, not added to; bias has n entries.
 */
export function gemmBias(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  b: FloatArray,
  c: FloatArray,
  bias: FloatArray,
  rectify: boolean,
): void {
  gemm(transA, transB, m, n, k, a, b, c, false);
  addBias(c, bias, m, n);
  if (rectify) relu(c, c, m * n);
}

/**
 * C = op(A)·op(B) where y > 0, else 0: gemm, then reluGrad(y, C, C). C is [m×n] and
 * written, not added to; y is [m×n], the output of the ReLU whose input gradient C is.
 */
export function gemmReluGrad(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: FloatArray,
  b: FloatArray,
  c: FloatArray,
  y: FloatArray,
): void {
  gemm(transA, transB, m, n, k, a, b, c, false);
  reluGrad(y, c, c, m * n);
}
