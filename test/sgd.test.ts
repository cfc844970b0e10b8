import { describe, expect, it } from 'vitest';
import { createParam } from '../src/layers/layer.js';
import { Sgd } from '../src/optim/sgd.js';
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

const CASES: OptimizerCase[] = [
  { name: 'sgd', spec: { type: 'sgd', lr: 0.5, momentum: 0, nesterov: false }, slots: [] },
  { name: 'sgd momentum', spec: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false }, slots: ['velocity'] },
  { name: 'sgd nesterov', spec: { type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true }, slots: ['velocity'] },
];

describe('sgd: three steps on a quadratic, by hand', () => {
  it('plain: w −= η·g', () => {
    // η = 0.1, so each step multiplies w1 by 1 − 0.1·1 = 0.9 and w2 by 1 − 0.1·4 = 0.6.
    const { optimizer, iterates } = quadratic((p) => new Sgd(p, { momentum: 0, nesterov: false }), 0.1);
    // The first step is exactly w − η·g, rounded once per operation as written here.
    expect(iterates[0]).toEqual([1 - 0.1 * 1, -2 - 0.1 * -8]);
    expectClose(iterates[0]!, [0.9, -1.2]);
    expectClose(iterates[1]!, [0.81, -0.72]);
    expectClose(iterates[2]!, [0.729, -0.432]);
    expect(optimizer.slots().size).toBe(0); // no velocity without momentum
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });

  it('momentum: Δw = γΔw + ηg, w −= Δw', () => {
    // γ = 0.9, η = 0.1.
    const { optimizer, iterates } = quadratic((p) => new Sgd(p, { momentum: 0.9, nesterov: false }), 0.1);
    // t=1: g = (1, −8);      Δw = (0.1, −0.8);                          w = (0.9, −1.2)
    expectClose(iterates[0]!, [0.9, -1.2]);
    // t=2: g = (0.9, −4.8);  Δw = 0.9·(0.1, −0.8) + (0.09, −0.48) = (0.18, −1.2);  w = (0.72, 0)
    expectClose(iterates[1]!, [0.72, 0]);
    // t=3: g = (0.72, 0);    Δw = 0.9·(0.18, −1.2) + (0.072, 0) = (0.234, −1.08); w = (0.486, 1.08)
    // w2 overshoots past 0: the velocity carries on after the gradient has vanished.
    expectClose(iterates[2]!, [0.486, 1.08]);
    expectClose(slot(optimizer, 'velocity'), [0.234, -1.08]);
    expect(optimizer.toState()).toEqual({ steps: 3 });
  });

  it("momentum in the tutorial's form: the velocity carries η, so a new η scales only the new gradient", () => {
    // One weight, constant gradient 2, γ = 0.9. PyTorch's form (v ← γv + g, w −= η·v) would
    // apply the new η to the whole velocity; here the old steps keep the η they were taken at.
    const p = createParam('weight', [1], 'float64', true);
    p.value.set([1]);
    p.grad.set([2]);
    const sgd = new Sgd([{ key: 'w', param: p }], { momentum: 0.9, nesterov: false });
    sgd.step(0.1); // Δw = 0.2, w = 0.8
    sgd.step(0.1); // Δw = 0.9·0.2 + 0.2 = 0.38, w = 0.42
    expect(p.value[0]).toBeCloseTo(0.42, 15);
    sgd.step(0.01); // Δw = 0.9·0.38 + 0.02 = 0.362 (PyTorch's: 0.01·(0.9·3.8 + 2) = 0.0542), w = 0.058
    expect(p.value[0]).toBeCloseTo(0.058, 15);
    expect(slot(sgd, 'velocity', 'w')[0]).toBeCloseTo(0.362, 15);
  });

  it('nesterov: Δw = γΔw + ηg, w −= γΔw + ηg', () => {
    // γ = 0.9, η = 0.1.
    const { iterates } = quadratic((p) => new Sgd(p, { momentum: 0.9, nesterov: true }), 0.1);
    // t=1: g = (1, −8), ηg = (0.1, −0.8); Δw = (0.1, −0.8);
    //      w −= (0.09 + 0.1, −0.72 − 0.8) = (0.19, −1.52)                    → w = (0.81, −0.48)
    expectClose(iterates[0]!, [0.81, -0.48]);
    // t=2: g = (0.81, −1.92), ηg = (0.081, −0.192); Δw = (0.09 + 0.081, −0.72 − 0.192) = (0.171, −0.912);
    //      w −= (0.1539 + 0.081, −0.8208 − 0.192) = (0.2349, −1.0128)        → w = (0.5751, 0.5328)
    expectClose(iterates[1]!, [0.5751, 0.5328]);
    // t=3: g = (0.5751, 2.1312), ηg = (0.05751, 0.21312);
    //      Δw = (0.1539 + 0.05751, −0.8208 + 0.21312) = (0.21141, −0.60768);
    //      w −= (0.190269 + 0.05751, −0.546912 + 0.21312) = (0.247779, −0.333792) → w = (0.327321, 0.866592)
    expectClose(iterates[2]!, [0.327321, 0.866592]);
  });
});

describe(`sgd: ${STEPS} steps on a small network match torch.optim.SGD`, () => {
  const torchRun = torchRuns(CASES, 'sgd.test');
  for (const [c, { name, spec }] of CASES.entries()) {
    it.skipIf(!hasTorch)(`${name}: parameters after each step, and the final velocity`, () => {
      if (spec.type !== 'sgd') throw new Error('an sgd case');
      const run = torchRun(c);
      const optimizer = expectTorchTrajectory(name, spec, run);
      if (spec.momentum > 0) {
        // dlt's velocity carries η: Δw = η·b.
        const buffer = (run.state.momentum_buffer as number[]).map((b) => spec.lr * b);
        expect(maxRelativeError(flatSlot(optimizer, 'velocity'), buffer)).toBeLessThanOrEqual(1e-10);
      } else {
        expect(optimizer.slots().size).toBe(0);
      }
    });
  }
});

describe('sgd: resume from slots() and toState()', () => {
  it.each(CASES)('$name: 10 steps, copy into a fresh optimiser, 10 more on both: bit-identical', ({ spec }) => {
    expectResumeBitIdentical(spec);
  });
});

describe('sgd: state buffers', () => {
  it.each(CASES)("$name: slots take the parameters' dtype and length, keyed by parameter name", (optimizerCase) => {
    expectSlotsLikeParams(optimizerCase);
  });
});
