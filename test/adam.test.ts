import { describe, expect, it } from 'vitest';
import { Adam } from '../src/optim/adam.js';
import {
  divergenceWithoutState,
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

const CASE: OptimizerCase = {
  name: 'adam',
  spec: { type: 'adam', lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
  slots: ['m', 'v'],
};

describe('adam: three steps on a quadratic, by hand', () => {
  // Values below ~1e−9 that come from ε are kept: the expected numbers were carried to 20
  // digits (exact decimal arithmetic, square roots to 50 digits), are written as the
  // nearest double, and compared to 13.
  it('bias-corrected moments, w −= η·m̂/(√v̂ + ε)', () => {
    // η = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e−8.
    const { optimizer, iterates } = quadratic((p) => new Adam(p, { beta1: 0.9, beta2: 0.999, eps: 1e-8 }), 0.1);
    // t=1: g = (1, −8); m = 0.1·g = (0.1, −0.8); v = 0.001·g² = (0.001, 0.064);
    //      m̂ = m/(1 − 0.9) = (1, −8); v̂ = v/(1 − 0.999) = (1, 64): the corrections recover g and g².
    //      w −= 0.1·(1/(1 + 1e−8), −8/(8 + 1e−8)) = (0.1 − 1e−9, −0.1 + 1.25e−10)
    //      = (0.90000000099999999, −1.900000000125)
    expectClose(iterates[0]!, [0.900000001, -1.900000000125]);
    // t=2: g = (0.900000001, −7.6000000005); m = 0.9·m + 0.1·g = (0.1800000001, −1.48000000005);
    //      v = 0.999·v + 0.001·g² = (0.0018090000018, 0.1216960000076);
    //      1 − β1² = 0.19, 1 − β2² = 0.001999; m̂ = (0.9473684216…, −7.789473684…);
    //      v̂ = (0.9049524771…, 60.87843922…); √v̂ = (0.9512899017…, 7.802463664…);
    //      w −= 0.1·m̂/(√v̂ + ε) = (0.0995877703…, −0.0998335143…)
    expectClose(iterates[1]!, [0.8004122297123374, -1.8001664858630047]);
    // t=3: g = (0.8004122297…, −7.200665943…); m = (0.2420412231…, −2.052066594…);
    //      v = (0.002447850739…, 0.1734238940…); 1 − β1³ = 0.271, 1 − β2³ = 0.002997001;
    //      m̂ = (0.8931410445…, −7.572201455…); v̂ = (0.8167667409…, 57.86581120…);
    //      √v̂ = (0.9037514818…, 7.606958078…); w −= (0.0988259552…, −0.0995430942…)
    expectClose(iterates[2]!, [0.7015862745044142, -1.7006233916636402]);
    expectClose(slot(optimizer, 'm'), [0.24204122306123374, -2.052066594390202]);
    expectClose(slot(optimizer, 'v'), [0.0024478507392712754, 0.17342389403678216], 15);
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });
});

describe(`adam: ${STEPS} steps on a small network match torch.optim.Adam`, () => {
  const torchRun = torchRuns([CASE], 'adam.test');
  it.skipIf(!hasTorch)('parameters after each step, and the final moments and step count', () => {
    const run = torchRun(0);
    const optimizer = expectTorchTrajectory(CASE.name, CASE.spec, run);
    expect(maxRelativeError(flatSlot(optimizer, 'm'), run.state.exp_avg as number[])).toBeLessThanOrEqual(1e-10);
    expect(maxRelativeError(flatSlot(optimizer, 'v'), run.state.exp_avg_sq as number[])).toBeLessThanOrEqual(1e-10);
    expect(optimizer.toState()).toEqual({ steps: run.state.step });
  });
});

describe('adam: resume and state buffers', () => {
  it('10 steps, copy slots() and toState() into a fresh optimiser, 10 more on both: bit-identical', () => {
    expectResumeBitIdentical(CASE.spec);
  });

  it('a resume that drops the step count diverges (bias correction restarts)', () => {
    expect(divergenceWithoutState(CASE.spec)).toBeGreaterThan(1e-6);
  });

  it("slots take the parameters' dtype and length, keyed by parameter name", () => {
    expectSlotsLikeParams(CASE);
  });
});
