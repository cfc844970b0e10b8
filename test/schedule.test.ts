import { describe, expect, it } from 'vitest';
import { scheduleSpec } from '../src/config/schema.js';
import { InputError } from '../src/errors.js';
import { createSchedule } from '../src/schedule/registry.js';
import { type EpochMetrics, type LrChange, type Schedule, type ScheduleState, scheduleStateSchema } from '../src/schedule/schedule.js';
import { RollingAverage } from '../src/train/rollingAverage.js';

/** A schedule from its YAML form, defaults filled by the config schema. */
function schedule(spec: unknown, baseLr: number): Schedule {
  return createSchedule(scheduleSpec.parse(spec), baseLr);
}

const loss = (train_loss_avg: number): EpochMetrics => ({ train_loss_avg, val_loss: null, val_accuracy: null });
const valLoss = (val_loss: number | null): EpochMetrics => ({ train_loss_avg: 1, val_loss, val_accuracy: null });
const valAccuracy = (val_accuracy: number | null): EpochMetrics => ({ train_loss_avg: 1, val_loss: null, val_accuracy });

interface Run {
  /** lrs[e − 1] = the lr epoch e ran at. */
  lrs: number[];
  /** The epochs after which the lr changed, with the change. */
  events: Array<{ epoch: number } & LrChange>;
}

/** Run `s` through epochs first, first+1, ... feeding metrics[i] to the i-th. */
function run(s: Schedule, metrics: EpochMetrics[], first = 1): Run {
  const out: Run = { lrs: [], events: [] };
  metrics.forEach((m, i) => {
    out.lrs.push(s.lr);
    const change = s.epochEnd(first + i, m);
    if (change) out.events.push({ epoch: first + i, ...change });
  });
  return out;
}

const epochs = (n: number, m: EpochMetrics = loss(1)) => Array.from({ length: n }, () => m);
const dropEpochs = (r: Run) => r.events.map((e) => e.epoch);

describe('step', () => {
  it('every 10: epochs 1–10 at base, 11–20 at base·factor, 21–30 at base·factor²', () => {
    // factor 0.5 keeps every value exact in binary, so the table compares with toBe.
    const r = run(schedule({ type: 'step', every: 10, factor: 0.5 }, 0.8), epochs(30));
    const expected = Array.from({ length: 30 }, (_, i) => (i < 10 ? 0.8 : i < 20 ? 0.4 : 0.2));
    expect(r.lrs).toEqual(expected);
    expect(r.events).toEqual([
      { epoch: 10, from: 0.8, to: 0.4, reason: 'step: epoch 10 is a multiple of 10' },
      { epoch: 20, from: 0.4, to: 0.2, reason: 'step: epoch 20 is a multiple of 10' },
      { epoch: 30, from: 0.2, to: 0.1, reason: 'step: epoch 30 is a multiple of 10' },
    ]);
  });

  it('default factor 0.1; lr = base·factor^k from the drop count (no drift)', () => {
    const s = schedule({ type: 'step', every: 1 }, 0.1);
    const r = run(s, epochs(30));
    expect(r.lrs[1]).toBeCloseTo(0.01, 17);
    expect(r.lrs[2]).toBeCloseTo(0.001, 18);
    expect(dropEpochs(r)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // After 30 drops: exactly base·0.1^30, two roundings, not 30 products.
    expect(s.lr).toBe(0.1 * 0.1 ** 30);
  });
});

describe('multistep', () => {
  it('drops after each milestone epoch and only then', () => {
    const r = run(schedule({ type: 'multistep', milestones: [5, 12, 13], factor: 0.5 }, 1), epochs(30));
    const expected = Array.from({ length: 30 }, (_, i) => {
      const e = i + 1; // epoch e runs at base·factor^#{m < e}
      return e <= 5 ? 1 : e <= 12 ? 0.5 : e <= 13 ? 0.25 : 0.125;
    });
    expect(r.lrs).toEqual(expected);
    expect(dropEpochs(r)).toEqual([5, 12, 13]);
    expect(r.events[0]!.reason).toBe('multistep: epoch 5 is a milestone (5, 12, 13)');
  });

  it('a milestone past the last epoch never fires', () => {
    const r = run(schedule({ type: 'multistep', milestones: [40] }, 1), epochs(30));
    expect(r.events).toEqual([]);
    expect(new Set(r.lrs)).toEqual(new Set([1]));
  });
});

describe('exponential', () => {
  it('lr = base·gamma^(e−1) during epoch e, a change after every epoch', () => {
    const r = run(schedule({ type: 'exponential', gamma: 0.5 }, 1), epochs(30));
    expect(r.lrs).toEqual(Array.from({ length: 30 }, (_, i) => 0.5 ** i));
    expect(dropEpochs(r)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(r.events[2]).toEqual({ epoch: 3, from: 0.25, to: 0.125, reason: 'exponential: lr × 0.5 after epoch 3' });
  });

  it('gamma 1 never changes the lr and reports nothing', () => {
    const r = run(schedule({ type: 'exponential', gamma: 1 }, 0.3), epochs(30));
    expect(r.events).toEqual([]);
    expect(new Set(r.lrs)).toEqual(new Set([0.3]));
  });
});

describe('constant', () => {
  it('never changes', () => {
    const r = run(schedule('constant', 0.05), epochs(30));
    expect(r.events).toEqual([]);
    expect(new Set(r.lrs)).toEqual(new Set([0.05]));
  });
});

describe('epochs must be consecutive', () => {
  it('epochEnd(3) straight after construction is a programmer error', () => {
    const s = schedule({ type: 'step', every: 2 }, 1);
    expect(() => s.epochEnd(3, loss(1))).toThrow(/epochs must be consecutive/);
  });
});

describe('plateau', () => {
  it.each([0, 1, 2, 5])('patience %i: the lr drops at the end of the (patience+1)-th consecutive epoch without improvement', (patience) => {
    const s = schedule({ type: 'plateau', patience, factor: 0.5 }, 1);
    // Epoch 1 sets best = 1; epochs 2, 3, ... are all bad (no improvement).
    const r = run(s, epochs(patience + 3, loss(1)));
    const dropEpoch = 1 + (patience + 1);
    expect(dropEpochs(r)[0]).toBe(dropEpoch);
    expect(r.lrs[dropEpoch - 1]).toBe(1); // the last bad epoch still ran at the old lr
    expect(r.lrs[dropEpoch]).toBe(0.5);
    expect(r.events[0]!.reason).toBe(`plateau: train_loss_avg has not improved on 1 for ${patience + 1} epoch${patience === 0 ? '' : 's'}`);
  });

  it('an improvement resets the count of bad epochs', () => {
    // patience 2: bad at 2, 3; better at 4; bad at 5, 6, 7 → drop after 7.
    const r = run(schedule({ type: 'plateau', patience: 2 }, 1), [1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.5].map(loss));
    expect(dropEpochs(r)).toEqual([7]);
  });

  it('cooldown: bad epochs are not counted for `cooldown` epochs after a drop', () => {
    const constantLoss = epochs(12, loss(1));
    // patience 1: a drop every second bad epoch → after 3, 5, 7, 9, 11.
    expect(dropEpochs(run(schedule({ type: 'plateau', patience: 1 }, 1), constantLoss))).toEqual([3, 5, 7, 9, 11]);
    // cooldown 2: epochs 4, 5 are in cooldown and count nothing; 6, 7 are bad → 7; then 8, 9 cool; 10, 11 → 11.
    expect(dropEpochs(run(schedule({ type: 'plateau', patience: 1, cooldown: 2 }, 1), constantLoss))).toEqual([3, 7, 11]);
  });

  it('best keeps improving during cooldown', () => {
    // patience 0, cooldown 1: drop after 2 (bad); 3 is in cooldown but sets best = 0.5;
    // 4 = 0.7 is bad against 0.5 (it would be good against the old best 1) → drop.
    const r = run(schedule({ type: 'plateau', patience: 0, cooldown: 1 }, 1), [1, 1, 0.5, 0.7].map(loss));
    expect(dropEpochs(r)).toEqual([2, 4]);
  });

  it('min_lr: never below it, and no change reported once there', () => {
    const s = schedule({ type: 'plateau', patience: 0, factor: 0.1, min_lr: 0.05 }, 1);
    const r = run(s, epochs(10, loss(1)));
    expect(r.events.map(({ epoch, from, to }) => ({ epoch, from, to }))).toEqual([
      { epoch: 2, from: 1, to: 0.1 },
      { epoch: 3, from: 0.1, to: 0.05 }, // 0.01 clamped up to min_lr
    ]);
    expect(r.events[1]!.reason).toMatch(/held at min_lr 0\.05$/);
    expect(Math.min(...r.lrs, s.lr)).toBe(0.05);
  });

  it('a decrease of at most 1e-8 is not applied (PyTorch eps)', () => {
    // 1e-8 → 1e-9 would be a decrease of 9e-9 ≤ 1e-8.
    const r = run(schedule({ type: 'plateau', patience: 0 }, 1e-8), epochs(5, loss(1)));
    expect(r.events).toEqual([]);
    expect(new Set(r.lrs)).toEqual(new Set([1e-8]));
  });

  it('threshold is relative: better means < best·(1 − threshold)', () => {
    const plateau = () => schedule({ type: 'plateau', patience: 0, threshold: 0.1 }, 1);
    // 0.95 improves on 1 by 0.05 < 0.1·1: not better → drop (patience 0).
    expect(dropEpochs(run(plateau(), [1, 0.95].map(loss)))).toEqual([2]);
    // 0.89 improves by 0.11 > 0.1·1: better → no drop.
    expect(dropEpochs(run(plateau(), [1, 0.89].map(loss)))).toEqual([]);
    // Relative, not absolute: at best = 10, 9.5 is the same 5 % and still not better.
    expect(dropEpochs(run(plateau(), [10, 9.5].map(loss)))).toEqual([2]);
    // A not-better epoch does not move best: after 1, 0.95, the bar is still 0.9, so 0.89 is better.
    expect(dropEpochs(run(schedule({ type: 'plateau', patience: 1, threshold: 0.1 }, 1), [1, 0.95, 0.89].map(loss)))).toEqual([]);
  });

  it('val_accuracy is maximised: better means > best·(1 + threshold)', () => {
    const accuracies = [0.5, 0.6, 0.6, 0.6].map(valAccuracy);
    // Max mode: 0.6 is better at 2; bad at 3, 4 → drop after 4 (patience 1).
    const r = run(schedule({ type: 'plateau', monitor: 'val_accuracy', patience: 1 }, 1), accuracies);
    expect(dropEpochs(r)).toEqual([4]);
    expect(r.events[0]!.reason).toBe('plateau: val_accuracy has not improved on 0.6 for 2 epochs');
    // The same numbers as a loss (min mode) are bad from epoch 2 → drop after 3.
    expect(dropEpochs(run(schedule({ type: 'plateau', monitor: 'val_loss', patience: 1 }, 1), [0.5, 0.6, 0.6, 0.6].map(valLoss)))).toEqual([3]);
    // Relative threshold in max mode: 0.50004 is not above 0.5·(1 + 1e-4) = 0.50005.
    const tiny = run(schedule({ type: 'plateau', monitor: 'val_accuracy', patience: 0 }, 1), [0.5, 0.50004].map(valAccuracy));
    expect(dropEpochs(tiny)).toEqual([2]);
  });

  it('a null metric (no validation this epoch) leaves the state unchanged', () => {
    const s = schedule({ type: 'plateau', monitor: 'val_loss', patience: 1 }, 1);
    s.epochEnd(1, valLoss(1));
    s.epochEnd(2, valLoss(1)); // one bad epoch
    const { epoch: _e, ...before } = s.toState();
    expect(s.epochEnd(3, valLoss(null))).toBeUndefined();
    expect(s.epochEnd(4, valLoss(null))).toBeUndefined();
    const { epoch, ...after } = s.toState();
    expect(epoch).toBe(4);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ num_bad_epochs: 1, best: 1 });
    // The second bad *evaluation* triggers the drop.
    expect(s.epochEnd(5, valLoss(1))).toMatchObject({ from: 1, to: 0.1 });
  });

  it('null metrics do not run down the cooldown either', () => {
    // patience 0, cooldown 1: drop after 2; 3, 4 unevaluated; 5 is the cooldown epoch; 6 drops.
    const r = run(schedule({ type: 'plateau', monitor: 'val_loss', patience: 0, cooldown: 1 }, 1), [1, 1, null, null, 1, 1].map(valLoss));
    expect(dropEpochs(r)).toEqual([2, 6]);
  });
});

describe('toState / fromState', () => {
  const plateauMetrics = [1, 0.9, 0.9, 0.9, 0.8, 0.85, 0.85, 0.85, 0.85, 0.7, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9].map(loss);
  const cases: Array<{ name: string; spec: unknown; metrics: EpochMetrics[] }> = [
    { name: 'constant', spec: 'constant', metrics: epochs(16) },
    { name: 'step', spec: { type: 'step', every: 3, factor: 0.3 }, metrics: epochs(16) },
    { name: 'multistep', spec: { type: 'multistep', milestones: [2, 7, 12], factor: 0.2 }, metrics: epochs(16) },
    { name: 'exponential', spec: { type: 'exponential', gamma: 0.9 }, metrics: epochs(16) },
    { name: 'plateau', spec: { type: 'plateau', patience: 1, cooldown: 2, factor: 0.3, min_lr: 0.01 }, metrics: plateauMetrics },
  ];

  for (const { name, spec, metrics } of cases) {
    it.each([0, 1, 4, 5, 7, 9, 11, 13])(`${name}: k = %i epochs, JSON round trip, then both go on identically`, (k) => {
      const reference = schedule(spec, 0.7);
      const before = run(reference, metrics.slice(0, k));
      const restored = schedule(spec, 0.7);
      restored.fromState(roundTrip(reference.toState()));
      expect(restored.lr).toBe(reference.lr);
      const rest = metrics.slice(k);
      const a = run(reference, rest, k + 1);
      const b = run(restored, rest, k + 1);
      expect(b).toEqual(a);
      // The whole run drops where an uninterrupted run does.
      const whole = run(schedule(spec, 0.7), metrics);
      expect({ lrs: [...before.lrs, ...b.lrs], events: [...before.events, ...b.events] }).toEqual(whole);
    });
  }

  it('the plateau case really crosses drops, cooldown and a min_lr clamp', () => {
    const r = run(schedule(cases[4]!.spec, 0.7), plateauMetrics);
    expect(dropEpochs(r)).toEqual([4, 8, 12, 16]);
    expect(r.events.at(-1)!.to).toBe(0.01);
  });

  it('a fresh plateau (no best yet) survives JSON, which has no Infinity', () => {
    const s = schedule({ type: 'plateau', monitor: 'val_accuracy' }, 1);
    const state = roundTrip(s.toState());
    expect(state).toMatchObject({ best: null });
    const t = schedule({ type: 'plateau', monitor: 'val_accuracy', patience: 0 }, 1);
    t.fromState(state);
    // 0 is better than "nothing yet", then 0 again is bad → drop (patience 0).
    expect(dropEpochs(run(t, [0, 0].map(valAccuracy)))).toEqual([2]);
  });

  it('a new base lr (resume --set optimizer.lr) rescales every schedule: the drops taken still apply', () => {
    // factors and rates that are powers of two keep the products exact
    for (const { name, spec, metrics } of [...cases.slice(1, 4), { ...cases[4]!, spec: { type: 'plateau', patience: 1, factor: 0.5 } }]) {
      const reference = schedule(spec, 0.5);
      run(reference, metrics.slice(0, 9));
      const dropped = reference.lr / 0.5;
      expect(dropped, `${name} has dropped by epoch 9`).toBeLessThan(1);
      const state = roundTrip(reference.toState());
      const rescaled = schedule(spec, 0.25);
      rescaled.fromState(state);
      expect(rescaled.lr, name).toBeCloseTo(0.25 * dropped, 15);
    }
  });

  it('a plateau state written before base_lr was recorded resumes at its lr', () => {
    const reference = schedule({ type: 'plateau', patience: 0, factor: 0.5 }, 1);
    run(reference, [1, 2, 3].map(loss));
    const state = reference.toState();
    if (state.type !== 'plateau') throw new Error('expected a plateau state');
    const { base_lr: _, ...old } = state;
    const restored = schedule({ type: 'plateau', patience: 0, factor: 0.5 }, 4);
    restored.fromState(old);
    expect(restored.lr).toBe(0.25);
  });

  it('a state from another schedule type is an InputError saying what to do', () => {
    const step = schedule({ type: 'step', every: 2 }, 1);
    expect(() => schedule('constant', 1).fromState(step.toState())).toThrow(InputError);
    expect(() => schedule('constant', 1).fromState(step.toState())).toThrow(/resume with the schedule the run started with/);
  });

  it('a state that does not fit the schema is refused before any schedule sees it', () => {
    for (const bad of [
      null,
      { type: 'step', epoch: 1.5, scale: 1 },
      { type: 'step', epoch: 1 },
      { type: 'step', epoch: 1, scale: 0 },
      { type: 'step', epoch: 1, scale: 2 },
    ]) {
      expect(scheduleStateSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(
      scheduleStateSchema.safeParse({ type: 'plateau', epoch: 2, lr: 0.1, best: null, num_bad_epochs: 0, cooldown_counter: 0, scale: 1, extra: 1 })
        .success,
    ).toBe(false);
  });
});

describe('scaleBy: on_nan: rollback asks the schedule, the only writer of the learning rate', () => {
  const specs: unknown[] = [
    'constant',
    { type: 'step', every: 2, factor: 0.5 },
    { type: 'exponential', gamma: 0.5 },
    { type: 'plateau', patience: 0, factor: 0.5 },
  ];
  for (const spec of specs) {
    it(`${JSON.stringify(spec)}: the lr is scaled from then on, the change is reported, and the scale survives a round trip`, () => {
      const s = schedule(spec, 0.5);
      run(s, [1, 2, 3].map(loss));
      const before = s.lr;
      const change = s.scaleBy(0.1, 'nan_rollback');
      expect(change).toEqual({ from: before, to: before * 0.1, reason: 'nan_rollback' });
      expect(s.lr).toBe(before * 0.1);
      const restored = schedule(spec, 0.5);
      restored.fromState(roundTrip(s.toState()));
      expect(restored.lr).toBe(s.lr);
      // Later drops apply on top of the scale.
      const next = run(s, [4, 5].map(loss), 4);
      expect(run(restored, [4, 5].map(loss), 4)).toEqual(next);
    });
  }
});

/** A state as a snapshot carries it: JSON, then parsed by the schema. */
function roundTrip(state: ScheduleState): ScheduleState {
  return scheduleStateSchema.parse(JSON.parse(JSON.stringify(state)));
}

describe('plateau on train_loss_avg sees the rolling average, not the last batch', () => {
  /** What the trainer does: push every batch loss, give the window mean to the schedule at epoch end. */
  function feed(s: Schedule, rolling: RollingAverage, batchLossesPerEpoch: number[][], value: (r: RollingAverage, last: number) => number): Run {
    const out: Run = { lrs: [], events: [] };
    batchLossesPerEpoch.forEach((batches, i) => {
      out.lrs.push(s.lr);
      for (const b of batches) rolling.push(b);
      const change = s.epochEnd(i + 1, loss(value(rolling, batches.at(-1)!)));
      if (change) out.events.push({ epoch: i + 1, ...change });
    });
    return out;
  }

  it('window 4 over epochs of 3 batches: the average says plateau where the last batch says progress', () => {
    // Epoch 1: [3, 3, 3] → mean 3 = best. Epoch 2: [4, 4, 2.5] → the window is
    // [3, 4, 4, 2.5] (it spans the epoch boundary), mean 3.375 > 3: bad → drop with
    // patience 0. The last batch alone (2.5 < 3) would have counted as an improvement.
    const batches = [
      [3, 3, 3],
      [4, 4, 2.5],
    ];
    const spec = { type: 'plateau', monitor: 'train_loss_avg', patience: 0 };

    const averaged = feed(schedule(spec, 1), new RollingAverage(4), batches, (r) => r.mean());
    expect(averaged.events).toEqual([{ epoch: 2, from: 1, to: 0.1, reason: 'plateau: train_loss_avg has not improved on 3 for 1 epoch' }]);

    const lastBatch = feed(schedule(spec, 1), new RollingAverage(4), batches, (_r, last) => last);
    expect(lastBatch.events).toEqual([]);
  });
});
