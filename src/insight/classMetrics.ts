/**
 * Per-class precision, recall and F1 from a confusion matrix: how trustworthy a
 * prediction of class c is, and how much of class c the network finds.
 */

/** One class's scores. NaN where a score is undefined (see classMetrics). */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** Samples whose true class this is. */
  support: number;
}

/**
 * confusion[true][predicted] = count, as dlt eval's confusion matrix, [classes × classes].
 * Labels and predictions must lie in [0, classes).
 */
export function confusionMatrix(labels: Int32Array, predicted: Int32Array, classes: number): number[][] {
  if (labels.length !== predicted.length) throw new Error(`confusionMatrix: ${labels.length} labels but ${predicted.length} predictions`);
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  labels.forEach((label, i) => {
    const guess = predicted[i]!;
    if (label < 0 || label >= classes || guess < 0 || guess >= classes) {
      throw new Error(`confusionMatrix: sample ${i} has label ${label} and prediction ${guess}, outside the ${classes} classes`);
    }
    confusion[label]![guess]!++;
  });
  return confusion;
}

/**
 * With TP the diagonal cell, the column sum (everything predicted as c) and the row sum
 * (everything truly c, the support):
 *
 *   precision = TP / column sum     NaN when c is never predicted
 *   recall    = TP / row sum        NaN when no sample is of class c
 *   F1        = 2·TP / (row sum + column sum)
 *             = 2·precision·recall / (precision + recall) where both are defined;
 *                                   NaN only when c is neither predicted nor present.
 *
 * So a class that has samples but is never predicted gets F1 = 0 (recall 0 makes the
 * harmonic mean 0 whatever the precision), not NaN, and a macro-average cannot skip it.
 */
export function classMetrics(confusion: readonly (readonly number[])[]): ClassMetrics[] {
  const columnSums = confusion.map((_, c) => confusion.reduce((sum, row) => sum + row[c]!, 0));
  return confusion.map((row, c) => {
    const tp = row[c]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predictedAs = columnSums[c]!;
    return {
      precision: predictedAs > 0 ? tp / predictedAs : NaN,
      recall: support > 0 ? tp / support : NaN,
      f1: support + predictedAs > 0 ? (2 * tp) / (support + predictedAs) : NaN,
      support,
    };
  });
}

/**
 * The unweighted mean over classes of each score, skipping the classes where it is NaN
 * (NaN when every class is); support is the total number of samples.
 */
export function macroAverage(metrics: readonly ClassMetrics[]): ClassMetrics {
  const mean = (score: (m: ClassMetrics) => number): number => {
    const defined = metrics.map(score).filter((v) => !Number.isNaN(v));
    return defined.length > 0 ? defined.reduce((a, b) => a + b, 0) / defined.length : NaN;
  };
  return {
    precision: mean((m) => m.precision),
    recall: mean((m) => m.recall),
    f1: mean((m) => m.f1),
    support: metrics.reduce((sum, m) => sum + m.support, 0),
  };
}
