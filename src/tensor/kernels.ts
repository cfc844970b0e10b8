import { adamSteps, addBias, biasGrad, gatherBytes, relu, reluGrad, sgdMomentumSteps, weightDecayGrad } from './elementwise.js';
import { gemm } from './gemm.js';
import { gemmBias, gemmReluGrad } from './gemmEpilogues.js';
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
  // Each kernel has the signature and contract of its JavaScript implementation, which
  // the native addon reproduces (native/dlt_native.c).
  /**
   * C = op(A)·op(B) (+ C when `accumulate`), where op(A) is [m×k] and op(B) is [k×n].
   * A is stored [m×k], or [k×m] when `transA`; B is [k×n], or [n×k] when `transB`.
   * C is [m×n]. Only the first m·n entries of C are touched.
   */
  gemm: typeof gemm;
  /** A dense layer's forward product: gemm, then addBias, then relu when asked (see gemmEpilogues.ts). */
  gemmBias: typeof gemmBias;
  /** A product into the ReLU before it: gemm, then reluGrad with the ReLU's output (see gemmEpilogues.ts). */
  gemmReluGrad: typeof gemmReluGrad;
  /** SGD with momentum over every parameter in one call (see elementwise.ts); each w and v is updated. */
  sgdMomentumSteps: typeof sgdMomentumSteps;
  /** One Adam update of every parameter in one call (see elementwise.ts); each w, m and v is updated. */
  adamSteps: typeof adamSteps;
  /** g += 2·l2·w + l1·sign(w) (see elementwise.ts). */
  weightDecayGrad: typeof weightDecayGrad;
  /** ReLU forward (see elementwise.ts). */
  relu: typeof relu;
  /** ReLU backward, from the forward output (see elementwise.ts). */
  reluGrad: typeof reluGrad;
  /** A dense layer's bias added to each row (see elementwise.ts). */
  addBias: typeof addBias;
  /** A dense layer's bias gradient, the sum of dy's rows (see elementwise.ts). */
  biasGrad: typeof biasGrad;
  /** A batch of byte rows, each byte mapped through a 256-entry table (see elementwise.ts). */
  gatherBytes: typeof gatherBytes;
  /** Convolution's unrolling of receptive fields into columns (see spatial.ts). */
  im2col: typeof im2col;
  /** The adjoint of im2col (see spatial.ts). */
  col2im: typeof col2im;
  /** Convolution output: filter-major product to sample-major, plus bias (see spatial.ts). */
  addBiasSampleMajor: typeof addBiasSampleMajor;
  /** Convolution backward: dy to filter-major, and the bias gradient (see spatial.ts). */
  filterMajorBiasGrad: typeof filterMajorBiasGrad;
  /** Max pooling's forward pass with its argmax (see spatial.ts). */
  maxPool: typeof maxPool;
}

/** The JavaScript backend (its GEMM's tiles run in WebAssembly SIMD where available). */
export const jsKernels: Kernels = {
  name: 'js',
  threads: 1,
  gemm,
  gemmBias,
  gemmReluGrad,
  sgdMomentumSteps,
  adamSteps,
  weightDecayGrad,
  relu,
  reluGrad,
  addBias,
  biasGrad,
  gatherBytes,
  im2col,
  col2im,
  addBiasSampleMajor,
  filterMajorBiasGrad,
  maxPool,
};
