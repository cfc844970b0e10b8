/** The most confident mistakes, on a set worked by hand. */
import { describe, expect, it } from 'vitest';
import { confidentMistakes } from '../src/insight/mistakes.js';

describe('confidentMistakes', () => {
  // sample  probabilities     label  predicted
  //   0     0.8  0.1  0.1       0       0      right
  //   1     0.1  0.2  0.7       1       2      wrong, p = 0.7
  //   2     0.2  0.6  0.2       2       1      wrong, p = 0.6
  //   3     0.3  0.6  0.1       0       1      wrong, p = 0.6
  //   4     0.1  0.9  0         1       1      right
  //   5     0.7  0.2  0.1       2       0      wrong, p = 0.7
  const scan = {
    classes: 3,
    labels: Int32Array.of(0, 1, 2, 0, 1, 2),
    predicted: Int32Array.of(0, 2, 1, 1, 1, 0),
    probabilities: Float64Array.of(0.8, 0.1, 0.1, 0.1, 0.2, 0.7, 0.2, 0.6, 0.2, 0.3, 0.6, 0.1, 0.1, 0.9, 0, 0.7, 0.2, 0.1),
  };

  it('lists wrong predictions by the probability of the wrong class, ties by lower sample', () => {
    expect(confidentMistakes(scan, 10)).toEqual([
      { sample: 1, label: 1, predicted: 2, probability: 0.7 },
      { sample: 5, label: 2, predicted: 0, probability: 0.7 },
      { sample: 2, label: 2, predicted: 1, probability: 0.6 },
      { sample: 3, label: 0, predicted: 1, probability: 0.6 },
    ]);
  });

  it('keeps at most k', () => {
    expect(confidentMistakes(scan, 3).map((m) => m.sample)).toEqual([1, 5, 2]);
    expect(confidentMistakes(scan, 0)).toEqual([]);
  });

  it('no mistakes, no list', () => {
    expect(confidentMistakes({ ...scan, predicted: scan.labels }, 5)).toEqual([]);
  });
});
