/**
 * Per-class precision, recall and F1 on a confusion matrix worked by hand, including the
 * classes where a score is undefined, and the confusion matrix itself.
 */
import { describe, expect, it } from 'vitest';
import { classMetrics, confusionMatrix, macroAverage } from '../src/insight/classMetrics.js';

describe('confusionMatrix', () => {
  it('counts [true][predicted], as dlt eval', () => {
    const labels = Int32Array.of(0, 0, 1, 2, 1);
    const predicted = Int32Array.of(0, 1, 1, 0, 1);
    expect(confusionMatrix(labels, predicted, 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 0],
    ]);
  });

  it('refuses a class out of range and arrays of different lengths', () => {
    expect(() => confusionMatrix(Int32Array.of(0, 3), Int32Array.of(0, 1), 3)).toThrow(/sample 1 has label 3/);
    expect(() => confusionMatrix(Int32Array.of(0), Int32Array.of(0, 1), 3)).toThrow(/1 labels but 2 predictions/);
  });
});

describe('classMetrics', () => {
  // Rows are the true class, columns the predicted one.
  //                 predicted 0  1  2  3  4    support
  const confusion = [
    [5, 1, 0, 2, 0], //            8
    [2, 3, 0, 1, 0], //            6
    [1, 0, 0, 0, 0], //            1   (class 2 is never predicted)
    [0, 0, 0, 0, 0], //            0   (class 3 has no sample but is predicted 3 times)
    [0, 0, 0, 0, 0], //            0   (class 4: neither)
  ];
  // column sums:                  8  4  0  3  0
  const metrics = classMetrics(confusion);

  it('class 0: precision 5/8, recall 5/8, F1 2·5/(8 + 8) = 0.625', () => {
    expect(metrics[0]).toEqual({ precision: 0.625, recall: 0.625, f1: 0.625, support: 8 });
  });

  it('class 1: precision 3/4, recall 3/6, F1 2·3/(6 + 4) = 0.6 = 2·0.75·0.5/1.25', () => {
    expect(metrics[1]!.precision).toBe(0.75);
    expect(metrics[1]!.recall).toBe(0.5);
    expect(metrics[1]!.f1).toBeCloseTo(0.6, 15);
    expect(metrics[1]!.support).toBe(6);
  });

  it('a class never predicted: precision NaN, recall 0/1, F1 0 (not NaN)', () => {
    expect(metrics[2]).toEqual({ precision: NaN, recall: 0, f1: 0, support: 1 });
  });

  it('a class with no sample: recall NaN, precision 0/3, F1 0', () => {
    expect(metrics[3]).toEqual({ precision: 0, recall: NaN, f1: 0, support: 0 });
  });

  it('a class neither present nor predicted: all NaN', () => {
    expect(metrics[4]).toEqual({ precision: NaN, recall: NaN, f1: NaN, support: 0 });
  });

  it('macroAverage skips the NaNs: precision (0.625 + 0.75 + 0)/3, recall (0.625 + 0.5 + 0)/3, F1 (0.625 + 0.6 + 0 + 0)/4', () => {
    const macro = macroAverage(metrics);
    expect(macro.precision).toBeCloseTo(1.375 / 3, 15);
    expect(macro.recall).toBeCloseTo(1.125 / 3, 15);
    expect(macro.f1).toBeCloseTo(1.225 / 4, 15);
    expect(macro.support).toBe(15);
    expect(macroAverage([metrics[4]!])).toEqual({ precision: NaN, recall: NaN, f1: NaN, support: 0 });
  });
});
