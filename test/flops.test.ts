/** The bench's FLOP count per training sample, worked by hand for the bench's own reference networks. */
import { describe, expect, it } from 'vitest';
import { trainingFlopsPerSample } from '../src/bench/flops.js';
import { REFERENCE_LAYERS } from '../src/bench/referenceNetworks.js';
import { type LayerSpec, layerSpec } from '../src/config/schema.js';
import { buildNetwork } from '../src/model/build.js';
import { jsKernels } from '../src/tensor/kernels.js';

function flops(layers: unknown[], input: number[]): number {
  const specs: LayerSpec[] = layers.map((l) => layerSpec.parse(l));
  const { network } = buildNetwork({ seed: 1, model: { input, layers: specs } }, jsKernels);
  return trainingFlopsPerSample(specs, network);
}

describe('trainingFlopsPerSample', () => {
  it('MLP 784-256-128-10: forward 2·MACs, backward 4·MACs but for the first layer (no dX)', () => {
    const macs = [784 * 256, 256 * 128, 128 * 10];
    const want = 2 * macs[0]! * 2 + 2 * macs[1]! * 3 + 2 * macs[2]! * 3; // 802,816 + 196,608 + 7,680
    expect(flops(REFERENCE_LAYERS.mlp, [1, 28, 28])).toBe(want);
    expect(want).toBe(1_007_104);
  });

  it("Caffe's LeNet: conv MACs are output size × C·k², pooling and activations count nothing", () => {
    // conv1 20·24·24 outputs × 1·25; conv2 50·8·8 × 20·25; dense 800·500; dense 500·10
    const macs = [20 * 24 * 24 * 25, 50 * 8 * 8 * 20 * 25, 800 * 500, 500 * 10];
    const want = 2 * macs[0]! * 2 + 2 * (macs[1]! + macs[2]! + macs[3]!) * 3;
    expect(flops(REFERENCE_LAYERS.lenet, [1, 28, 28])).toBe(want);
    expect(want / 1e6).toBeCloseTo(13.18, 2);
  });
});
