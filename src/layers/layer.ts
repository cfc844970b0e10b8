import type { Kernels } from '../tensor/kernels.js';
import type { DType, FloatArray } from '../tensor/types.js';
import { allocate } from '../tensor/types.js';
import type { Rng } from '../util/rng.js';

/**
 * A learnable tensor: its value and the gradient of the objective with respect to it,
 * two typed arrays of equal length. `backward` adds into `grad`; zeroing it is a
 * separate, explicit step (Network.zeroGrads).
 */
export interface Param {
  /** `weight` or `bias` (SPEC §5 names it `param/<layer>/<name>`). */
  readonly name: string;
  readonly shape: readonly number[];
  readonly value: FloatArray;
  readonly grad: FloatArray;
  /** True for weights, false for biases: weight decay touches biases only on request. */
  readonly isWeight: boolean;
}

/** What a layer needs to build itself. */
export interface LayerContext {
  /** Unique name, `<type>_<k>`, counting each type from 1 in config order. */
  name: string;
  /**
   * Where the layer sits in the config, for error messages: `model.layers.<i> (<name>)`.
   * Layers built outside a config (tests) leave it out and are referred to by name.
   */
  location?: string;
  /** Shape of one input sample: [D] or [C, H, W]. */
  inputShape: readonly number[];
  dtype: DType;
  kernels: Kernels;
  /** Stream for initial weights. */
  rng: Rng;
  /**
   * Stream for randomness during training (dropout masks), shared by the network's
   * layers in order, and saved in snapshots so a resumed run draws the same masks.
   */
  noise: Rng;
}

/**
 * One stage of a feed-forward network. Batches are [n × features] row-major, where the
 * features of a sample are its shape flattened row-major (C, H, W).
 */
export interface Layer {
  readonly name: string;
  readonly type: string;
  /** Shape of one output sample. */
  readonly outputShape: readonly number[];
  readonly params: readonly Param[];
  /**
   * Compute the output for n samples, caching what backward needs. Returns a buffer the
   * layer owns (valid until the next forward); only its first n·outputSize entries count.
   */
  forward(x: FloatArray, n: number, training: boolean): FloatArray;
  /**
   * Given dL/dy for the last forward, add dL/dparam into each param's grad and return
   * dL/dx, a buffer the layer owns. When `needInput` is false, dL/dx may be skipped (the
   * first layer: nobody consumes it) and the return value is meaningless. `gradsZero`
   * matters only to a layer that declares `writesGrads` (see there).
   */
  backward(dy: FloatArray, n: number, needInput: boolean, gradsZero?: boolean): FloatArray;
  /**
   * Present (true) on layers whose backward, when told `gradsZero`, writes every entry of
   * its params' grads instead of adding into them, so that Network.zeroGrads need not
   * clear them first: a matrix product can then store its result rather than read the
   * old one and add (for the MLP, a fill and a read of 0.9 MB per step saved). The
   * values are the same, except that a sum that comes to −0 stays −0 instead of
   * becoming +0 + (−0) = +0.
   */
  readonly writesGrads?: true;
  /**
   * Present only on layers with a kink (a point where the derivative jumps, e.g. ReLU at
   * x = 0): a hash of which side of its kink every element was on in the last forward.
   * The gradient check (src/gradcheck) compares it before and after a small step to find
   * the steps that cross a kink, where centred differences mean nothing. Smooth layers
   * leave it out, which also tells the check that they add no kink to the objective.
   */
  kinkSignature?(): number;
}

/**
 * An order-sensitive hash of a sequence of small integers (FNV-1a, one 32-bit word per
 * value), for kink signatures. Each step h ← (h ⊕ v)·p is a bijection of h for a given v
 * and of v for a given h (p is odd), so two sequences that differ in a single value
 * always hash differently: one element crossing its kink is never missed.
 */
export class SignatureHash {
  private h = 0x811c9dc5;
  add(v: number): void {
    this.h = Math.imul(this.h ^ v, 0x01000193);
  }
  get value(): number {
    return this.h >>> 0;
  }
}

/**
 * A buffer that grows to the largest batch seen and is then reused, so that the
 * training loop allocates nothing per batch.
 */
export class Workspace {
  private buffer: FloatArray;
  constructor(
    private readonly dtype: DType,
    private readonly perSample: number,
  ) {
    this.buffer = allocate(dtype, 0);
  }

  /** A buffer for at least n samples. Contents are undefined. */
  get(n: number): FloatArray {
    const need = n * this.perSample;
    if (this.buffer.length < need) this.buffer = allocate(this.dtype, need);
    return this.buffer;
  }
}

/** How an error message refers to the layer: its place in the config, else its name. */
export function locationOf(ctx: LayerContext): string {
  return ctx.location ?? ctx.name;
}

export function createParam(name: string, shape: readonly number[], dtype: DType, isWeight: boolean): Param {
  let size = 1;
  for (const d of shape) size *= d;
  return { name, shape, value: allocate(dtype, size), grad: allocate(dtype, size), isWeight };
}
