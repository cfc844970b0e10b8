import type { Loss } from '../losses/loss.js';
import type { Network } from '../model/network.js';
import type { Regularizer } from '../optim/regularization.js';
import type { FloatArray } from '../tensor/types.js';
import { allocate, sizeOf } from '../tensor/types.js';
import { Rng } from '../util/rng.js';

/**
 * Numerical gradient check (tutorial, "Learning by gradient descent", slides 23–25):
 * compare the analytic gradient of the objective with centred differences
 *
 *   g'_i = (f(θ + δe_i) − f(θ − δe_i)) / 2δ,
 *
 * in double precision, on a few random data points, at random parameter values, and
 * per tensor with the tutorial's measure, written as a ratio of maxima over the checked
 * entries:
 *
 *   max_i |g_i − g'_i| / max_i max(|g_i|, |g'_i|)      (0 when every g_i and g'_i is 0).
 *
 * Karpathy's reading of it (slide 25): > 1e-2 the gradient is probably wrong; above
 * 1e-4 uncomfortable; ≤ 1e-4 fine for an objective with kinks, but a smooth one should
 * reach 1e-7.
 *
 * The objective is the training one: mean batch loss + regularisation penalty.
 */

export type Verdict = 'ok' | 'uncomfortable' | 'wrong';

/** Above this relative error the gradient is "probably wrong", whatever the objective. */
export const WRONG_ABOVE = 1e-2;
/** Threshold for a tensor in which the objective has kinks (slide 25). */
export const KINKED_THRESHOLD = 1e-4;
/** Threshold for a tensor in which the objective is smooth (slide 25). */
export const SMOOTH_THRESHOLD = 1e-7;
/** Tensors up to this many entries are checked in full; larger ones row by row. */
export const CHECK_ALL_UP_TO = 2000;
/** Floor of the per-tensor spread of the parameter perturbation. */
export const MIN_PERTURBATION = 0.1;

export interface GradcheckOptions {
  /** Random samples in the batch (inputs standard normal, labels uniform over the classes). */
  batch: number;
  /** Seeds the inputs, labels, parameter perturbation and the choice of entries. */
  seed: number;
  /** Step δ of the centred differences. */
  delta: number;
  /** Entries checked per row of a tensor larger than CHECK_ALL_UP_TO; 0 checks everything. */
  samples: number;
}

/** What the check runs on. */
export interface CheckedModel {
  network: Network;
  loss: Loss;
  regularizer: Regularizer;
  /** The stream dropout draws its masks from; reset before every evaluation. */
  noise: Rng;
}

export interface TensorCheck {
  /** `input`, or `param/<layer>/<name>` as in snapshots (SPEC §5). */
  name: string;
  /** Entries evaluated numerically, including those that crossed a kink. */
  entriesChecked: number;
  /** The measure above over the checked entries that crossed no kink (NaN if a value was not finite). */
  maxRelError: number;
  /** KINKED_THRESHOLD or SMOOTH_THRESHOLD: whether the objective has a kink in this tensor. */
  threshold: number;
  /** Entries whose ±δ step crossed a kink: reported, and left out of maxRelError. */
  kinks: number;
  verdict: Verdict;
}

export interface GradcheckReport {
  /** Every tensor within its threshold. */
  passed: boolean;
  /** The input first, then every parameter in layer order. */
  tensors: TensorCheck[];
  /**
   * The forward drew training-time noise (dropout masks): every evaluation ran in
   * training mode with the same draws, so all of them saw one fixed mask.
   */
  fixedNoise: boolean;
}

/** A tensor to check: where its values live and its analytic gradient at the base point. */
interface Target {
  name: string;
  shape: readonly number[];
  value: FloatArray;
  analytic: Float64Array;
  kinked: boolean;
}

/**
 * Check every parameter tensor of `model.network` and its input. The parameters are
 * first moved to a random point, θ ← θ_init + N(0, s²) with s = max(std(θ_init), 0.1)
 * per tensor (the tutorial's "random points in the parameter space": at the
 * initialisation, zero biases and equal PReLU slopes would hide errors), and are left
 * there. Pure of I/O.
 */
export function gradcheck(model: CheckedModel, options: GradcheckOptions): GradcheckReport {
  const { network, loss, regularizer, noise } = model;
  const n = options.batch;

  const data = Rng.derive(options.seed, 'gradcheck-data');
  const x = allocate(network.dtype, n * network.inputSize);
  for (let i = 0; i < x.length; i++) x[i] = data.normal();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = data.nextInt(network.outputSize);
  perturbParams(network, Rng.derive(options.seed, 'gradcheck-params'));

  // Dropout: every evaluation restarts the noise stream where it stands now, so each
  // forward draws the same masks and f is one fixed function of θ and x.
  const noiseStart = noise.toState();
  const objective = (): number => {
    noise.setState(noiseStart);
    const scores = network.forward(x, n, true);
    return loss.forward(scores, labels, n) + regularizer.penalty();
  };
  const signature = (): number[] => [
    ...network.layers.map((l) => l.kinkSignature?.() ?? 0),
    loss.kinkSignature?.() ?? 0,
    regularizer.kinkSignature(),
  ];

  // The analytic gradient and the kink signature at the base point.
  network.zeroGrads();
  objective();
  const fixedNoise = noise.toState().some((word, i) => word !== noiseStart[i]);
  const base = signature();
  const dx = network.backward(loss.backward(), n, true)!;
  const inputGrad = Float64Array.from(dx.subarray(0, x.length));
  regularizer.addGradients();

  // A layer's kinks are in its input (true of every kinked layer here: the activations —
  // PReLU is linear in its slope — and the max pools, maxpool2d and channel_maxpool, whose
  // argmax changes with the input alone), so they make the objective kinked in the input
  // and in the parameters of earlier layers; a kinked loss affects everything; L1 only the
  // tensors it decays. A layer declares its kinks by having a kinkSignature.
  const lossKinked = loss.kinkSignature !== undefined;
  const kinkedFrom = new Array<boolean>(network.layers.length + 1).fill(false);
  for (let i = network.layers.length - 1; i >= 0; i--) kinkedFrom[i] = kinkedFrom[i + 1]! || network.layers[i]!.kinkSignature !== undefined;

  const targets: Target[] = [
    { name: 'input', shape: [n, ...network.inputShape], value: x, analytic: inputGrad, kinked: lossKinked || kinkedFrom[0]! },
    ...network.layers.flatMap((layer, i) =>
      layer.params.map((p) => ({
        name: `param/${layer.name}/${p.name}`,
        shape: p.shape,
        value: p.value,
        analytic: Float64Array.from(p.grad),
        kinked: lossKinked || kinkedFrom[i + 1]! || regularizer.kinkedIn(p),
      })),
    ),
  ];

  const pick = Rng.derive(options.seed, 'gradcheck-entries');
  const tensors = targets.map((t) => checkTensor(t, chooseEntries(t.shape, options.samples, pick), options.delta, objective, signature, base));
  return { passed: tensors.every((t) => t.verdict === 'ok'), tensors, fixedNoise };
}

function checkTensor(
  t: Target,
  entries: readonly number[],
  delta: number,
  objective: () => number,
  signature: () => number[],
  base: readonly number[],
): TensorCheck {
  let kinks = 0;
  let maxDiff = 0;
  let maxMagnitude = 0;
  for (const i of entries) {
    const v = t.value[i]!;
    // Read the stepped values back, so the divisor is the step the tensor really took.
    t.value[i] = v + delta;
    const up = t.value[i]!;
    const fUp = objective();
    const crossedUp = differs(signature(), base);
    t.value[i] = v - delta;
    const down = t.value[i]!;
    const fDown = objective();
    const crossedDown = differs(signature(), base);
    t.value[i] = v;
    if (crossedUp || crossedDown) {
      // f is not differentiable between θ − δ and θ + δ: the difference quotient measures
      // nothing there, so the entry is counted and left out.
      kinks++;
      continue;
    }
    const numeric = (fUp - fDown) / (up - down);
    const analytic = t.analytic[i]!;
    // Math.max propagates NaN, so a non-finite value makes the measure NaN ("wrong").
    maxDiff = Math.max(maxDiff, Math.abs(analytic - numeric));
    maxMagnitude = Math.max(maxMagnitude, Math.abs(analytic), Math.abs(numeric));
  }
  // 0/0 (every compared gradient exactly zero, or nothing compared) counts as agreement.
  const maxRelError = maxMagnitude === 0 ? 0 : maxDiff / maxMagnitude;
  const threshold = t.kinked ? KINKED_THRESHOLD : SMOOTH_THRESHOLD;
  return { name: t.name, entriesChecked: entries.length, maxRelError, threshold, kinks, verdict: verdictOf(maxRelError, threshold) };
}

export function verdictOf(relError: number, threshold: number): Verdict {
  if (!(relError <= WRONG_ABOVE)) return 'wrong';
  return relError > threshold ? 'uncomfortable' : 'ok';
}

/**
 * Flat indices of the entries to check: all of them for a tensor of at most
 * CHECK_ALL_UP_TO entries (or when `samples` is 0); otherwise `samples` distinct random
 * entries from every row (first dimension: an output unit, a class, a sample), since a
 * subset of the weights of every class is a fair test and a subset of the classes is not
 * (slide 24).
 */
export function chooseEntries(shape: readonly number[], samples: number, rng: Rng): number[] {
  const size = sizeOf(shape);
  const rows = shape[0] ?? 1;
  const perRow = size / rows;
  if (samples === 0 || size <= CHECK_ALL_UP_TO || perRow <= samples) return Array.from({ length: size }, (_, i) => i);
  const offsets = new Int32Array(perRow);
  const entries: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < perRow; j++) offsets[j] = j;
    // A partial Fisher–Yates shuffle: the first `samples` offsets are a uniform draw.
    for (let j = 0; j < samples; j++) {
      const k = j + rng.nextInt(perRow - j);
      const t = offsets[j]!;
      offsets[j] = offsets[k]!;
      offsets[k] = t;
    }
    const chosen = Array.from(offsets.subarray(0, samples)).sort((a, b) => a - b);
    for (const j of chosen) entries.push(r * perRow + j);
  }
  return entries;
}

/** θ ← θ + N(0, s²) per entry, s = max(std of the tensor, MIN_PERTURBATION). */
function perturbParams(network: Network, rng: Rng): void {
  for (const layer of network.layers) {
    for (const { value } of layer.params) {
      let mean = 0;
      for (const v of value) mean += v;
      mean /= value.length;
      let variance = 0;
      for (const v of value) variance += (v - mean) ** 2;
      const s = Math.max(Math.sqrt(variance / value.length), MIN_PERTURBATION);
      for (let i = 0; i < value.length; i++) value[i] = value[i]! + s * rng.normal();
    }
  }
}

function differs(a: readonly number[], b: readonly number[]): boolean {
  return a.some((v, i) => v !== b[i]);
}
