// A dense layer next to a ReLU does the ReLU's work in its own product's pass
// (src/model/reluFusion.ts). Training must give the bits it gives with the layers kept
// apart, and in evaluation every layer's output must stay its own.
import { describe, expect, it } from 'vitest';
import { modelConfigSchema } from '../src/config/schema.js';
import { createLoss } from '../src/losses/registry.js';
import { Network } from '../src/model/network.js';
import { createOptimizer } from '../src/optim/registry.js';
import { jsKernels, type Kernels } from '../src/tensor/kernels.js';
import { nativeKernels, nativeStatus } from '../src/tensor/native.js';
import { allocate, type DType, type FloatArray } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';

const status = nativeStatus();
const backends: [string, () => Kernels][] = [
  ['js', () => jsKernels],
  ...(status.loaded ? ([1, 2].map((t) => [`native, ${t} thread(s)`, () => nativeKernels(status.addon, t)]) as [string, () => Kernels][]) : []),
];

const INPUT = 300;
const BATCH = 64;
const dense = (units: number) => ({ type: 'dense', units });
// Fused: dense–relu and relu–dense pairs. Apart: the same layers, a dropout of rate 0 (the
// identity, drawing nothing) between each pair, so no dense layer has a ReLU next to it.
const FUSED = [dense(256), 'relu', dense(40), 'relu', dense(10)];
const gap = { type: 'dropout', rate: 0 };
const APART = [dense(256), gap, 'relu', gap, dense(40), gap, 'relu', gap, dense(10)];

function build(layers: unknown[], dtype: DType, kernels: Kernels): Network {
  return new Network(modelConfigSchema.parse({ model: { input: [INPUT], layers } }).model.layers, [INPUT], {
    dtype,
    kernels,
    rng: Rng.derive(7, 'init'),
    noise: Rng.derive(7, 'dropout'),
  });
}

/** Weights and biases after three SGD-momentum steps, then the gradient of the loss with respect to the input. */
function train(network: Network, dtype: DType, kernels: Kernels): FloatArray[] {
  const rng = Rng.derive(11, 'batches');
  const loss = createLoss({ type: 'softmax_cross_entropy' }, 10, dtype);
  const optimizer = createOptimizer({ type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false }, network.namedParams(), kernels);
  const x = allocate(dtype, BATCH * INPUT);
  const labels = new Int32Array(BATCH);
  let dx: FloatArray | undefined;
  for (let step = 0; step < 3; step++) {
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    for (let i = 0; i < BATCH; i++) labels[i] = rng.nextInt(10);
    network.zeroGrads();
    loss.forward(network.forward(x, BATCH, true), labels, BATCH);
    dx = network.backward(loss.backward(), BATCH, step === 2);
    optimizer.step(0.1);
  }
  return [...network.namedParams().map(({ param }) => param.value), dx!];
}

function bits(a: FloatArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

describe('dense layers fused with the ReLUs next to them', () => {
  for (const [backend, kernels] of backends)
    for (const dtype of ['float32', 'float64'] as const)
      it(`${backend}, ${dtype}: train to the bits of the same layers kept apart`, () => {
        const fused = train(build(FUSED, dtype, kernels()), dtype, kernels());
        const apart = train(build(APART, dtype, kernels()), dtype, kernels());
        expect(fused).toHaveLength(7); // three weights, three biases, dL/dx
        fused.forEach((values, i) => {
          expect(
            bits(values).findIndex((byte, j) => byte !== bits(apart[i]!)[j]),
            `array ${i}: first differing byte`,
          ).toBe(-1);
        });
        expect(fused[0]!.some((v, j) => v !== build(FUSED, dtype, kernels()).namedParams()[0]!.param.value[j])).toBe(true); // it trained
      });

  it('in evaluation a dense layer outputs its own values, before the ReLU; in training, after it', () => {
    const network = build(FUSED, 'float64', jsKernels);
    const rng = Rng.derive(13, 'x');
    const x = Float64Array.from({ length: 4 * INPUT }, () => rng.normal());
    for (const training of [false, true]) {
      const [first, relu] = network.layers;
      const y = Float64Array.from(first!.forward(x, 4, training).subarray(0, 4 * 256));
      const rectified = relu!.forward(y, 4, training);
      expect(
        y.some((v) => v < 0),
        `training ${training}: negative outputs from the dense layer`,
      ).toBe(!training);
      expect(Array.from(rectified.subarray(0, y.length))).toEqual(Array.from(y, (v) => Math.max(v, 0)));
    }
  });
});
