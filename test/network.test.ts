// Network.backward: which layers run their backward pass, and which products they do.
import { describe, expect, it } from 'vitest';
import { Dense } from '../src/layers/dense.js';
import { Flatten } from '../src/layers/flatten.js';
import type { Layer, LayerContext } from '../src/layers/layer.js';
import { Network } from '../src/model/network.js';
import { jsKernels, type Kernels } from '../src/tensor/kernels.js';
import type { DType, FloatArray } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';

describe('Network.backward', () => {
  /** A flatten that records whether its backward ran. */
  class RecordingFlatten extends Flatten {
    calls = 0;
    override backward(dy: FloatArray, n?: number, needInput?: boolean): FloatArray {
      this.calls++;
      return super.backward(dy, n, needInput);
    }
  }

  function ctx(inputShape: number[], name: string, kernels: Kernels, dtype: DType = 'float64'): LayerContext {
    return { name, inputShape, dtype, kernels, rng: Rng.derive(3, name), noise: Rng.derive(3, 'noise') };
  }

  it('stops at the first layer with parameters, which skips its input gradient, unless dL/dx is asked for', () => {
    const products: string[] = [];
    const counting: Kernels = {
      ...jsKernels,
      gemm: (...args) => {
        products.push(`${args[2]}x${args[3]}x${args[4]}`);
        jsKernels.gemm(...args);
      },
    };
    const flatten = new RecordingFlatten(ctx([2, 3], 'flatten_1', counting));
    const dense = new Dense({ units: 4, init: { type: 'gaussian', std: 1 }, bias_init: { type: 'zeros' } }, ctx([6], 'dense_1', counting));
    const layers: Layer[] = [flatten, dense];
    const net = Network.fromLayers(layers, [2, 3], 'float64');
    const x = Float64Array.from({ length: 12 }, (_, i) => i);
    net.forward(x, 2, true);
    products.length = 0;
    expect(net.backward(new Float64Array(8).fill(1), 2)).toBeUndefined();
    expect(products).toEqual(['4x6x2']); // dW only: no dx = dy·W
    expect(flatten.calls).toBe(0);
    const dx = net.backward(new Float64Array(8).fill(1), 2, true);
    expect(products).toEqual(['4x6x2', '4x6x2', '2x6x4']);
    expect(flatten.calls).toBe(1);
    expect(dx).toHaveLength(12);
  });
});
