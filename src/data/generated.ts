/**
 * Small synthetic datasets (SPEC §3: `format: spiral | xor | parity`), for trying a model
 * in seconds and for tests. Each is a pure function of its options and an Rng, so the
 * same seed always gives the same points.
 */
import { InputError } from '../errors.js';
import type { Rng } from '../util/rng.js';
import type { Dataset } from './dataset.js';

/** More points than this is surely a typo, and would take gigabytes. */
const MAX_POINTS = 10_000_000;
/** 2^16 = 65536 vectors; beyond that parity stops being a toy. */
const MAX_PARITY_BITS = 16;

export interface SpiralOptions {
  classes: number;
  pointsPerClass: number;
  /** Std of the gaussian noise added to each point's angle (radians). */
  noise: number;
}

/**
 * K interleaved spiral arms in the plane, one per class: the standard example of data a
 * linear classifier cannot separate (CS231n, "Putting it together: minimal neural network
 * case study"). For class j and point i of N:
 *   r = i / (N−1),  t = 4j + 4·i/(N−1) + noise·𝒩(0, 1),  x = (r·sin t, r·cos t).
 * With N = 1 the single point sits at r = 0, as numpy's linspace(0, 1, 1) gives.
 * Samples are stored class by class; the trainer shuffles.
 */
export function spiral(opts: SpiralOptions, rng: Rng): Dataset {
  const { classes, pointsPerClass: n, noise } = opts;
  requireWhole('spiral', 'classes', classes, 1);
  requireWhole('spiral', 'points_per_class', n, 1);
  requireNoise('spiral', noise);
  requireTotal('spiral', classes * n);

  const count = classes * n;
  const x = new Float32Array(count * 2); // x is (count, 2)
  const labels = new Int32Array(count);
  const step = n > 1 ? 1 / (n - 1) : 0;
  for (let j = 0; j < classes; j++) {
    for (let i = 0; i < n; i++) {
      const k = j * n + i;
      const r = i * step;
      const t = 4 * j + 4 * i * step + noise * rng.normal();
      x[2 * k] = r * Math.sin(t);
      x[2 * k + 1] = r * Math.cos(t);
      labels[k] = j;
    }
  }
  return {
    x,
    labels,
    count,
    sampleShape: [2],
    source: `spiral(classes=${classes}, points_per_class=${n}, noise=${noise})`,
  };
}

export interface XorOptions {
  points: number;
  /** Std of the gaussian noise added to each coordinate. */
  noise: number;
}

/**
 * Points around the four corners (±1, ±1), each corner equally likely; label 1 when the
 * corner's two signs differ, 0 when they agree — XOR of the signs, the classic problem a
 * single-layer perceptron cannot learn (Minsky & Papert, 1969). The label belongs to the
 * corner a point was drawn around, so with large noise some points cross into a
 * neighbouring quadrant and keep their corner's label, like real label noise.
 */
export function xor(opts: XorOptions, rng: Rng): Dataset {
  const { points, noise } = opts;
  requireWhole('xor', 'points', points, 1);
  requireNoise('xor', noise);
  requireTotal('xor', points);

  const x = new Float32Array(points * 2); // x is (points, 2)
  const labels = new Int32Array(points);
  for (let k = 0; k < points; k++) {
    const a = rng.nextInt(2) === 1 ? 1 : -1;
    const b = rng.nextInt(2) === 1 ? 1 : -1;
    // Draw the noise even when it is zero, so that changing only the noise keeps the corners.
    x[2 * k] = a + noise * rng.normal();
    x[2 * k + 1] = b + noise * rng.normal();
    labels[k] = a !== b ? 1 : 0;
  }
  return { x, labels, count: points, sampleShape: [2], source: `xor(points=${points}, noise=${noise})` };
}

/**
 * Every vector of `bits` zeros and ones, 2^bits in all, labelled with the parity of its
 * number of ones (1 = odd). Row k is the binary expansion of k, most significant bit
 * first. Parity depends on every input at once, which makes it hard for shallow nets.
 */
export function parity(opts: { bits: number }): Dataset {
  const { bits } = opts;
  requireWhole('parity', 'bits', bits, 1);
  if (bits > MAX_PARITY_BITS) {
    throw new InputError(
      `parity: bits = ${bits} would make 2^${bits} samples; use at most ${MAX_PARITY_BITS} bits ` + `(${2 ** MAX_PARITY_BITS} samples)`,
    );
  }

  const count = 2 ** bits;
  const x = new Float32Array(count * bits); // x is (count, bits)
  const labels = new Int32Array(count);
  for (let k = 0; k < count; k++) {
    let ones = 0;
    for (let b = 0; b < bits; b++) {
      const bit = (k >>> (bits - 1 - b)) & 1;
      x[k * bits + b] = bit;
      ones += bit;
    }
    labels[k] = ones & 1;
  }
  return { x, labels, count, sampleShape: [bits], source: `parity(bits=${bits})` };
}

// The config schema checks these too; checking here keeps direct callers (tests, gradcheck)
// from building nonsense, and the messages use the YAML key names.

function requireWhole(format: string, key: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new InputError(`${format}: ${key} must be a whole number ≥ ${min}, got ${value}; fix ${key} in the data section`);
  }
}

function requireNoise(format: string, noise: number): void {
  if (!Number.isFinite(noise) || noise < 0) {
    throw new InputError(`${format}: noise must be a number ≥ 0 (a standard deviation), got ${noise}`);
  }
}

function requireTotal(format: string, total: number): void {
  if (total > MAX_POINTS) {
    throw new InputError(`${format}: ${total} points is too many; generate at most ${MAX_POINTS}`);
  }
}
