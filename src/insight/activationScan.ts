/**
 * What a trained network's convolution units respond to (tutorial, last slides: "the
 * image patches that most strongly activate a unit"): one pass over a split that keeps,
 * for every channel of every conv2d layer, the K samples that excite it most, and the
 * network's answer for every sample.
 */
import type { LayerSpec } from '../config/schema.js';
import type { Split } from '../data/load.js';
import type { Preprocessor } from '../data/preprocessor.js';
import type { Network } from '../model/network.js';
import { softmaxInto } from '../predict/predictions.js';
import { allocate, type FloatArray } from '../tensor/types.js';
import { type ReceptiveField, receptiveFields } from './receptiveField.js';
import { TopK } from './topK.js';

/** One sample's strongest response of a unit, and where in the map it was. */
export interface UnitPatch {
  /** Position of the sample in the split (0 ≤ sample < split.indices.length); the raw sample is split.data at split.indices[sample]. */
  sample: number;
  /** The unit's highest output over the sample's positions. */
  value: number;
  /** Where: the output position (row y, column x of the layer's map). */
  y: number;
  x: number;
}

/** The channels of one conv2d layer and the samples each responds to most. */
export interface ConvUnits {
  layer: string;
  /** Index into network.layers. */
  layerIndex: number;
  channels: number;
  outH: number;
  outW: number;
  /** The input window of each output position (see windowOf). */
  field: ReceptiveField;
  /**
   * Per channel: up to K samples that excite it most, largest first (ties: lower sample
   * first) — one patch per sample, at its best position (ties: first in row-major order).
   */
  top: UnitPatch[][];
}

export interface ActivationScan {
  /** One per conv2d layer, in network order. */
  convUnits: ConvUnits[];
  classes: number;
  /** True class of each sample, [N] in split order. */
  labels: Int32Array;
  /** Argmax of each sample's scores (lowest index on ties, as dlt eval), [N]. */
  predicted: Int32Array;
  /** Softmax of each sample's scores in float64, [N × classes], row-major. */
  probabilities: Float64Array;
}

/** Samples per forward pass, as dlt predict: memory stays bounded whatever the split's size. */
const BATCH = 256;

/**
 * Run `split` through `network` in evaluation mode (no dropout), layer by layer, batch by
 * batch. After each conv2d layer its own output (before any activation), [n × F × H × W],
 * is reduced to one number per sample and channel — the maximum over positions — and
 * offered to that channel's top-K. Only one batch of activations and K patches per
 * channel are ever held, so memory is O(channels·K) plus a batch, whatever N is.
 *
 * `specs` are the config's model.layers, the list `network` was built from (layer i from
 * specs[i]). A unit that never responds above 0 is dead: see isDead.
 */
export function scanActivations(
  network: Network,
  specs: readonly LayerSpec[],
  preprocessor: Preprocessor,
  split: Split,
  k: number,
  batch = BATCH,
): ActivationScan {
  const { layers } = network;
  if (specs.length !== layers.length) throw new Error(`scanActivations: ${specs.length} layer specs for a network of ${layers.length} layers`);
  const fields = receptiveFields(specs, network.inputShape);
  // One scanner per conv2d layer, at that layer's index.
  const scanners = specs.map((spec, i) => (spec.type === 'conv2d' ? new ConvUnitScanner(network, i, fields[i], k) : undefined));

  const N = split.indices.length;
  const C = network.outputSize;
  const labels = new Int32Array(N);
  const predicted = new Int32Array(N);
  const probabilities = new Float64Array(N * C);
  const x = allocate(network.dtype, batch * network.inputSize);
  const y = new Int32Array(batch);
  for (let start = 0; start < N; start += batch) {
    const n = Math.min(batch, N - start);
    preprocessor.fill(split, undefined, start, n, x, y);
    labels.set(y.subarray(0, n), start);
    let h: FloatArray = x;
    layers.forEach((layer, i) => {
      h = layer.forward(h, n, false);
      scanners[i]?.scan(h, n, start);
    });
    const scores = h; // [n × C]
    for (let s = 0; s < n; s++) {
      const row = scores.subarray(s * C, (s + 1) * C);
      let best = 0;
      for (let c = 1; c < C; c++) if (row[c]! > row[best]!) best = c;
      predicted[start + s] = best;
      softmaxInto(row, probabilities.subarray((start + s) * C, (start + s + 1) * C));
    }
  }
  return { convUnits: scanners.flatMap((s) => (s ? [s.finish()] : [])), classes: C, labels, predicted, probabilities };
}

/**
 * True when a unit never fired on the split: no patch, or even its best response is ≤ 0
 * (after a ReLU it would output 0 for every sample, so it passes no gradient and learns
 * nothing more — a "dead" unit).
 */
export function isDead(patches: readonly UnitPatch[]): boolean {
  return patches.length === 0 || !(patches[0]!.value > 0);
}

/** The top-K keepers of one conv2d layer's channels, fed its output batch by batch. */
class ConvUnitScanner {
  private readonly units: Omit<ConvUnits, 'top'>;
  /** One per channel. */
  private readonly keepers: TopK<UnitPatch>[];

  constructor(network: Network, layerIndex: number, field: ReceptiveField | undefined, k: number) {
    const layer = network.layers[layerIndex]!;
    const [channels, outH, outW] = layer.outputShape;
    if (field === undefined || channels === undefined || outH === undefined || outW === undefined) {
      throw new Error(`${layer.name}: a conv2d layer must output [C, H, W] and have a receptive field`);
    }
    this.units = { layer: layer.name, layerIndex, channels, outH, outW, field };
    this.keepers = Array.from({ length: channels }, () => new TopK<UnitPatch>(k, (p) => p.value));
  }

  /**
   * Offer each sample's best response per channel. y is the layer's output,
   * [n × F × outH × outW]; sample s of the batch is split position start + s.
   */
  scan(y: FloatArray, n: number, start: number): void {
    const { channels: F, outH, outW } = this.units;
    const P = outH * outW;
    for (let s = 0; s < n; s++) {
      for (let f = 0; f < F; f++) {
        const base = (s * F + f) * P;
        // Strictly greater: the first position in row-major order wins a tie, and NaN
        // never wins (a map of NaN alone offers nothing).
        let best = -1;
        let value = -Infinity;
        for (let p = 0; p < P; p++) {
          if (y[base + p]! > value) {
            value = y[base + p]!;
            best = p;
          }
        }
        if (best >= 0) this.keepers[f]!.push({ sample: start + s, value, y: Math.floor(best / outW), x: best % outW });
      }
    }
  }

  finish(): ConvUnits {
    return { ...this.units, top: this.keepers.map((keeper) => keeper.sorted()) };
  }
}
