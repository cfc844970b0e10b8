/**
 * Receptive fields: the composition rule on stacks worked by hand, LeNet's growing
 * fields, the clipping of windows to the image, and a brute-force check that an output
 * position depends on the pixels of its window and on no others.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelConfig } from '../src/config/load.js';
import { type LayerSpec, modelConfigSchema } from '../src/config/schema.js';
import { type ReceptiveField, receptiveFields, windowOf } from '../src/insight/receptiveField.js';
import { buildNetwork } from '../src/model/build.js';
import { jsKernels } from '../src/tensor/kernels.js';
import { sizeOf } from '../src/tensor/types.js';
import { Rng } from '../src/util/rng.js';
import { repoRoot } from './support/cli.js';

/** Specs with every default filled in, as a config would give them. */
function specsOf(input: number[], layers: unknown[]): LayerSpec[] {
  return modelConfigSchema.parse({ model: { input, layers } }).model.layers;
}

const field = (size: number, jump: number, start: number): ReceptiveField => ({ size, jump, start });

describe('receptiveFields', () => {
  it('conv 5 → maxpool 2 → conv 5: size 14, jump 2', () => {
    const specs = specsOf(
      [1, 28, 28],
      [
        { type: 'conv2d', filters: 2, kernel: 5 },
        { type: 'maxpool2d', size: 2 },
        { type: 'conv2d', filters: 2, kernel: 5 },
      ],
    );
    expect(receptiveFields(specs, [1, 28, 28])).toEqual([
      field(5, 1, 0), // 1 + (5 − 1)·1 = 5; jump 1·1
      field(6, 2, 0), // 5 + (2 − 1)·1 = 6; jump 1·2
      field(14, 2, 0), // 6 + (5 − 1)·2 = 14; jump 2·1
    ]);
  });

  it('strides and padding move the start before the image; elementwise layers keep the field; flatten and dense end it', () => {
    const specs = specsOf(
      [3, 32, 32],
      [
        { type: 'conv2d', filters: 4, kernel: 3, stride: 2, padding: 1 },
        'relu',
        { type: 'conv2d', filters: 4, kernel: 3, padding: 'same' },
        { type: 'maxpool2d', size: 2 },
        { type: 'channel_maxpool', group: 2 },
        { type: 'dropout', rate: 0.5 },
        { type: 'conv2d', filters: 2, kernel: 2, padding: 2 },
        { type: 'avgpool2d', size: 3, stride: 1 },
        'tanh',
        'flatten',
        { type: 'dense', units: 3 },
        'sigmoid',
      ],
    );
    expect(receptiveFields(specs, [3, 32, 32])).toEqual([
      field(3, 2, -1), // conv 3, s 2, p 1: size 1 + 2·1 = 3; jump 1·2 = 2; start 0 − 1·1 = −1
      field(3, 2, -1), // relu keeps it
      field(7, 2, -3), // conv 3, s 1, "same" p 1: size 3 + 2·2 = 7; jump 2; start −1 − 1·2 = −3
      field(9, 4, -3), // maxpool 2 (s 2, p 0): size 7 + 1·2 = 9; jump 2·2 = 4; start −3
      field(9, 4, -3), // channel_maxpool: the same position of other channels
      field(9, 4, -3), // dropout keeps it
      field(13, 4, -11), // conv 2, s 1, p 2: size 9 + 1·4 = 13; jump 4; start −3 − 2·4 = −11
      field(21, 4, -11), // avgpool 3, s 1: size 13 + 2·4 = 21; jump 4; start −11
      field(21, 4, -11), // tanh keeps it
      undefined, // flatten: every output sees every position
      undefined,
      undefined, // and nothing after it is spatial again
    ]);
  });

  it('LeNet (configs/fashion-lenet.yaml): 5, 6, 14 and 16 pixels, jumps 1, 2, 2 and 4', () => {
    const { model } = loadModelConfig(path.join(repoRoot, 'configs', 'fashion-lenet.yaml'));
    expect(receptiveFields(model.layers, model.input)).toEqual([
      field(5, 1, 0), // conv 5
      field(6, 2, 0), // maxpool 2: 5 + 1·1
      field(14, 2, 0), // conv 5: 6 + 4·2
      field(16, 4, 0), // maxpool 2: 14 + 1·2
      undefined, // flatten
      undefined, // dense 500
      undefined, // relu, after flatten
      undefined, // dense 10
    ]);
  });

  it('a vector input has no fields at all', () => {
    const specs = specsOf([4], ['relu', { type: 'dense', units: 2 }]);
    expect(receptiveFields(specs, [4])).toEqual([undefined, undefined]);
  });
});

describe('windowOf', () => {
  it('places the window at o·jump + start, whole when it lies inside the image', () => {
    // LeNet's second conv on 28×28: position (7, 3) covers rows 14..27, columns 6..19.
    expect(windowOf(field(14, 2, 0), 7, 3, 28, 28)).toEqual({ y0: 14, y1: 28, x0: 6, x1: 20 });
  });

  it('clips at the far edges', () => {
    // size 16, jump 4 on 28×28: position 4 starts at 16, would end at 32 → 28.
    expect(windowOf(field(16, 4, 0), 4, 0, 28, 28)).toEqual({ y0: 16, y1: 28, x0: 0, x1: 16 });
  });

  it('clips the padding away when start is negative, on a non-square image', () => {
    // size 7, jump 2, start −3 on a 16 × 10 image:
    // (0, 0): rows [−3, 4) → [0, 4), columns the same;
    // (7, 4): rows [14 − 3, 14 + 4) = [11, 18) → [11, 16); columns [8 − 3, 8 + 4) = [5, 12) → [5, 10).
    const f = field(7, 2, -3);
    expect(windowOf(f, 0, 0, 16, 10)).toEqual({ y0: 0, y1: 4, x0: 0, x1: 4 });
    expect(windowOf(f, 7, 4, 16, 10)).toEqual({ y0: 11, y1: 16, x0: 5, x1: 10 });
  });
});

describe('the window is exactly what an output depends on (brute force)', () => {
  const stacks: { title: string; input: number[]; layers: unknown[] }[] = [
    {
      title: 'conv 3 s 2 p 1 → tanh → conv 3 same → maxpool 2 s 1 → conv 2 p 1',
      input: [2, 11, 11],
      layers: [
        { type: 'conv2d', filters: 3, kernel: 3, stride: 2, padding: 1 }, // [3, 6, 6], field 3, 2, −1
        'tanh',
        { type: 'conv2d', filters: 3, kernel: 3, padding: 'same' }, // [3, 6, 6], field 7, 2, −3
        { type: 'maxpool2d', size: 2, stride: 1 }, // [3, 5, 5], field 9, 2, −3
        { type: 'conv2d', filters: 2, kernel: 2, padding: 1 }, // [2, 6, 6], field 11, 2, −5
        'flatten',
        { type: 'dense', units: 2 },
      ],
    },
    {
      title: 'conv 3 → channel_maxpool 2 → avgpool 2 → conv 3 s 2 p 2',
      input: [1, 12, 12],
      layers: [
        { type: 'conv2d', filters: 4, kernel: 3 }, // [4, 10, 10], field 3, 1, 0
        { type: 'channel_maxpool', group: 2 }, // [2, 10, 10]
        { type: 'avgpool2d', size: 2 }, // [2, 5, 5], field 4, 2, 0
        { type: 'conv2d', filters: 2, kernel: 3, stride: 2, padding: 2 }, // [2, 4, 4], field 8, 4, −4
        'flatten',
        { type: 'dense', units: 2 },
      ],
    },
  ];

  for (const { title, input, layers } of stacks) {
    it(title, () => {
      const config = modelConfigSchema.parse({ seed: 7, model: { input, layers } });
      const { network } = buildNetwork(config, jsKernels, 'float64');
      const fields = receptiveFields(config.model.layers, input);
      const last = fields.length - 1 - [...fields].reverse().findIndex((f) => f !== undefined); // the last spatial layer
      const f = fields[last]!;
      const [C, H, W] = input;
      const pixels = sizeOf(input);
      // Sample 0 is a random image; sample 1 + j is the same image with pixel j raised by 1.
      const rng = Rng.derive(3, 'receptive-field-test');
      const base = Float64Array.from({ length: pixels }, () => rng.normal());
      const n = 1 + pixels;
      const x = new Float64Array(n * pixels);
      for (let s = 0; s < n; s++) x.set(base, s * pixels);
      for (let j = 0; j < pixels; j++) x[(1 + j) * pixels + j]! += 1;

      let h = x;
      for (let i = 0; i <= last; i++) h = Float64Array.from(network.layers[i]!.forward(h, n, false));
      const [F, outH, outW] = network.layers[last]!.outputShape;
      const outSize = F! * outH! * outW!;
      /** Does raising pixel j change any channel of output position (oy, ox)? */
      const changes = (j: number, oy: number, ox: number): boolean => {
        for (let c = 0; c < F!; c++) {
          const at = (c * outH! + oy) * outW! + ox;
          if (h[(1 + j) * outSize + at] !== h[at]) return true;
        }
        return false;
      };

      for (let oy = 0; oy < outH!; oy++) {
        for (let ox = 0; ox < outW!; ox++) {
          const { y0, y1, x0, x1 } = windowOf(f, oy, ox, H!, W!);
          let insideChanges = 0;
          for (let c = 0; c < C!; c++) {
            for (let py = 0; py < H!; py++) {
              for (let px = 0; px < W!; px++) {
                const j = (c * H! + py) * W! + px;
                const inside = py >= y0 && py < y1 && px >= x0 && px < x1;
                if (!inside) expect(changes(j, oy, ox), `pixel (${c}, ${py}, ${px}) is outside the window of (${oy}, ${ox})`).toBe(false);
                else if (changes(j, oy, ox)) insideChanges++;
              }
            }
          }
          expect(insideChanges, `some pixel of the window of (${oy}, ${ox}) matters`).toBeGreaterThan(0);
        }
      }
    });
  }
});
