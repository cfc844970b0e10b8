/** Calibration bins and the expected calibration error, on a set worked by hand. */
import { describe, expect, it } from 'vitest';
import { calibration } from '../src/insight/calibration.js';

describe('calibration', () => {
  it('bins by the highest probability and weighs each bin’s gap by its share of samples', () => {
    // sample  probabilities  predicted  label  confidence  bin (width 0.1)
    //   0     0.9  0.1          0        0      0.9        9  right
    //   1     0.95 0.05         0        1      0.95       9  wrong
    //   2     0.3  0.7          1        1      0.7        7  right
    //   3     0.4  0.6          1        0      0.6        6  wrong
    //   4     0.5  0.5          0        0      0.5        5  right
    const probabilities = Float64Array.of(0.9, 0.1, 0.95, 0.05, 0.3, 0.7, 0.4, 0.6, 0.5, 0.5);
    const predicted = Int32Array.of(0, 0, 1, 1, 0);
    const labels = Int32Array.of(0, 1, 1, 0, 0);
    const { bins, ece } = calibration(probabilities, 2, labels, predicted);
    expect(bins).toHaveLength(10);
    expect(bins.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 0, 2]);
    expect(bins[9]!.confidence).toBeCloseTo(0.925, 15);
    expect(bins[9]!.accuracy).toBe(0.5);
    expect([bins[5]!.accuracy, bins[6]!.accuracy, bins[7]!.accuracy]).toEqual([1, 0, 1]);
    expect(bins[0]!.confidence).toBeNaN();
    expect(bins[0]!.accuracy).toBeNaN();
    expect(bins.map((b) => [b.lo, b.hi])[3]).toEqual([0.3, 0.4]);
    // ECE = 2/5·|0.5 − 0.925| + 1/5·|1 − 0.7| + 1/5·|0 − 0.6| + 1/5·|1 − 0.5|
    //     = 0.17 + 0.06 + 0.12 + 0.1 = 0.45
    expect(ece).toBeCloseTo(0.45, 14);
  });

  it('puts a confidence on a bin edge into the bin it starts, and 1 into the last bin', () => {
    // 22 bins: b/22 must land in bin b, though (15/22)·22 rounds to 14.999999999999998.
    const bins = 22;
    const p = Array.from({ length: bins + 1 }, (_, b) => b / bins);
    const probabilities = Float64Array.from(p.flatMap((v) => [v, 0]));
    const labels = new Int32Array(p.length);
    const result = calibration(probabilities, 2, labels, labels, bins);
    expect(result.bins.map((b) => b.count)).toEqual([...new Array<number>(bins - 1).fill(1), 2]);
    expect(result.bins[bins - 1]!.hi).toBe(1);
  });

  it('an empty set has empty bins and an ECE of NaN; mismatched arrays are refused', () => {
    const none = new Int32Array(0);
    const { bins, ece } = calibration(new Float64Array(0), 3, none, none, 4);
    expect(bins.map((b) => b.count)).toEqual([0, 0, 0, 0]);
    expect(ece).toBeNaN();
    expect(() => calibration(new Float64Array(3), 2, Int32Array.of(0, 1), Int32Array.of(0, 1))).toThrow(/3 probabilities/);
  });

  it('a perfectly calibrated set has ECE 0', () => {
    // Four samples at confidence 0.75 (bin 7), three of them right.
    const probabilities = Float64Array.of(0.75, 0.25, 0.75, 0.25, 0.25, 0.75, 0.25, 0.75);
    const predicted = Int32Array.of(0, 0, 1, 1);
    const labels = Int32Array.of(0, 0, 1, 0);
    expect(calibration(probabilities, 2, labels, predicted).ece).toBe(0);
  });
});
