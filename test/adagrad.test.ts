import { describe, expect, it } from 'vitest';
import { Adagrad } from '../src/optim/adagrad.js';
import {
  expectClose,
  expectResumeBitIdentical,
  expectSlotsLikeParams,
  expectTorchTrajectory,
  flatSlot,
  hasTorch,
  maxRelativeError,
  type OptimizerCase,
  quadratic,
  STEPS,
  slot,
  torchRuns,
} from './support/optimizers.js';

const CASE: OptimizerCase = { name: 'adagrad', spec: { type: 'adagrad', lr: 0.1, eps: 1e-10 }, slots: ['cache'] };

describe('adagrad: three steps on a quadratic, by hand', () => {
  // Values below ~1e−9 that come from ε are kept: the expected numbers were carried to 20
  // digits (exact decimal arithmetic, square roots to 50 digits), are written as the
  // nearest double, and compared to 13.
  it('G += g², w −= η·g/(√G + ε)', () => {
    // η = 0.1, ε = 1e−10. Adagrad divides each coordinate by its own gradient scale, so the
    // curvatures a and b nearly cancel: both coordinates first move by η.
    const { optimizer, iterates } = quadratic((p) => new Adagrad(p, { eps: 1e-10 }), 0.1);
    // t=1: g = (1, −8); G = (1, 64); √G = (1, 8);
    //      w −= 0.1·(1/(1 + 1e−10), −8/(8 + 1e−10)) = (0.1 − 1e−11, −0.1 + 1.25e−12)
    expectClose(iterates[0]!, [0.90000000001, -1.90000000000125]);
    // t=2: g = (0.90000000001, −7.600000000005); G = (1.81000000002, 121.76000000008);
    //      √G = (1.3453624047…, 11.034491379…); w −= 0.1·g/(√G + ε) = (0.0668965…, −0.0688749…)
    expectClose(iterates[1]!, [0.8331035268523167, -1.8311250538103812]);
    // t=3: g = (0.83310352685…, −7.3245002152…); G = (2.5040614865…, 175.40830340…);
    //      √G = (1.5824226637…, 13.244179982…); w −= (0.0526473455…, −0.0553035388…)
    expectClose(iterates[2]!, [0.7804561813655162, -1.775821515010822]);
    expectClose(slot(optimizer, 'cache'), [2.5040614864717687, 175.40830340314912], 12);
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });
});

describe(`adagrad: ${STEPS} steps on a small network match torch.optim.Adagrad`, () => {
  const torchRun = torchRuns([CASE], 'adagrad.test');
  it.skipIf(!hasTorch)('parameters after each step, and the final sum of squares and step count', () => {
    const run = torchRun(0);
    const optimizer = expectTorchTrajectory(CASE.name, CASE.spec, run);
    expect(maxRelativeError(flatSlot(optimizer, 'cache'), run.state.sum as number[])).toBeLessThanOrEqual(1e-10);
    expect(optimizer.toState().steps).toBe(run.state.step);
  });
});

describe('adagrad: resume and state buffers', () => {
  it('10 steps, copy slots() and toState() into a fresh optimiser, 10 more on both: bit-identical', () => {
    expectResumeBitIdentical(CASE.spec);
  });

  it("slots take the parameters' dtype and length, keyed by parameter name", () => {
    expectSlotsLikeParams(CASE);
  });
});
