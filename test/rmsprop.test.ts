import { describe, expect, it } from 'vitest';
import { Rmsprop } from '../src/optim/rmsprop.js';
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

const CASE: OptimizerCase = { name: 'rmsprop', spec: { type: 'rmsprop', lr: 0.01, decay: 0.9, eps: 1e-8 }, slots: ['cache'] };

describe('rmsprop: three steps on a quadratic, by hand', () => {
  // The expected numbers were carried to 20 digits (exact decimal arithmetic, square roots
  // to 50 digits), are written as the nearest double, and compared to 13.
  it('v = δv + (1 − δ)g², w −= η·g/(√v + ε)', () => {
    // η = 0.01, δ = 0.9, ε = 1e−8.
    const { optimizer, iterates } = quadratic((p) => new Rmsprop(p, { decay: 0.9, eps: 1e-8 }), 0.01);
    // t=1: g = (1, −8); v = 0.1·g² = (0.1, 6.4); √v = (0.316227766…, 2.529822128…);
    //      w −= 0.01·g/√v = 0.01·√10·(1, −1) = (0.0316227766…, −0.0316227766…)  (less ε's share)
    expectClose(iterates[0]!, [0.9683772243983162, -1.9683772235233161]);
    // t=2: g = (0.9683772244…, −7.873508894…); v = 0.9·v + 0.1·g² = (0.1837754449…, 11.95921423…);
    //      √v = (0.4286903835…, 3.458209686…); w −= (0.0225891982…, −0.0227675867…)
    expectClose(iterates[1]!, [0.9457880262458568, -1.9456096368619424]);
    // t=3: g = (0.9457880262…, −7.782438547…); v = (0.2548493994…, 16.81992778…);
    //      √v = (0.5048261081…, 4.101210526…); w −= (0.0187349266…, −0.0189759547…)
    expectClose(iterates[2]!, [0.9270530996585011, -1.9266336821326007]);
    expectClose(slot(optimizer, 'cache'), [0.2548493994450082, 16.819927781963013]);
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });
});

describe(`rmsprop: ${STEPS} steps on a small network match torch.optim.RMSprop`, () => {
  const torchRun = torchRuns([CASE], 'rmsprop.test');
  it.skipIf(!hasTorch)('parameters after each step, and the final square average and step count', () => {
    const run = torchRun(0);
    const optimizer = expectTorchTrajectory(CASE.name, CASE.spec, run);
    expect(maxRelativeError(flatSlot(optimizer, 'cache'), run.state.square_avg as number[])).toBeLessThanOrEqual(1e-10);
    expect(optimizer.toState().steps).toBe(run.state.step);
  });
});

describe('rmsprop: resume and state buffers', () => {
  it('10 steps, copy slots() and toState() into a fresh optimiser, 10 more on both: bit-identical', () => {
    expectResumeBitIdentical(CASE.spec);
  });

  it("slots take the parameters' dtype and length, keyed by parameter name", () => {
    expectSlotsLikeParams(CASE);
  });
});
