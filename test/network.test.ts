// Network.backward: which layers run their backward pass, and which products they do.
import { describe, expect, it } from 'vitest';
import { Conv2d } from '../src/layers/conv2d.js';
import { Dense } from '../src/layers/dense.js';
import { Flatten } from '../src/layers/flatten.js';
import type { Layer, LayerContext } from '../src/layers/layer.js';
import { Prelu } from '../src/layers/prelu.js';
import { Network } from '../src/model/network.js';
import { jsKernels, type Kernels } from '../src/tensor/kernels.js';
import { nativeKernels, nativeStatus } from '../src/tensor/native.js';
import { allocate, type DType, type FloatArray } from '../src/tensor/types.js';
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

  describe("zeroGrads: each batch's gradients alone, whether a layer writes its grads or adds into them", () => {
    const status = nativeStatus();
    const backends: [string, Kernels][] = [
      ['js', jsKernels],
      ...(status.loaded ? [['native', nativeKernels(status.addon, 1)] as [string, Kernels]] : []),
    ];
    for (const [backend, kernels] of backends) {
      for (const dtype of ['float32', 'float64'] as const) {
        it(`${backend}, ${dtype}: conv2d and dense (which write) and prelu (which adds)`, () => {
          const build = () => {
            const layers: Layer[] = [];
            const add = (make: (c: LayerContext) => Layer, shape: number[], name: string) => layers.push(make(ctx(shape, name, kernels, dtype)));
            const gaussian = { type: 'gaussian', std: 0.5 } as const;
            add((c) => new Conv2d({ filters: 3, kernel: 3, stride: 1, padding: 1, init: gaussian, bias_init: gaussian }, c), [2, 5, 5], 'conv2d_1');
            add((c) => new Prelu({ init: 0.25, shared: false }, c), [3, 5, 5], 'prelu_1');
            add((c) => new Flatten(c), [3, 5, 5], 'flatten_1');
            add((c) => new Dense({ units: 4, init: gaussian, bias_init: gaussian }, c), [75], 'dense_1');
            return Network.fromLayers(layers, [2, 5, 5], dtype);
          };
          const rng = Rng.derive(5, 'grads');
          const random = (length: number) => allocate(dtype, length).map(() => rng.normal());
          const [x1, d1, x2, d2] = [random(3 * 50), random(3 * 4), random(3 * 50), random(3 * 4)];
          const grads = (net: Network) => net.layers.flatMap((l) => l.params.map((p) => Array.from(p.grad)));

          const trained = build();
          for (const [x, d] of [
            [x1, d1],
            [x2, d2],
          ] as const) {
            trained.zeroGrads();
            trained.forward(x, 3, true);
            trained.backward(d, 3);
          }
          const fresh = build();
          fresh.zeroGrads();
          fresh.forward(x2, 3, true);
          fresh.backward(d2, 3);
          const second = grads(fresh);
          expect(second.flat().every((g) => g !== 0 && Number.isFinite(g))).toBe(true);
          expect(grads(trained)).toEqual(second);
          // Without zeroGrads, a second backward adds: every grad doubles (to the float32
          // rounding of the JavaScript product, which adds its double-precision sum to C).
          fresh.backward(d2, 3);
          const doubled = grads(fresh).flat();
          second.flat().forEach((g, i) => {
            expect(Math.abs(doubled[i]! - 2 * g), `entry ${i}`).toBeLessThanOrEqual(dtype === 'float32' ? 1e-6 * Math.abs(g) : 0);
          });
        });
      }
    }
  });
});
