/**
 * Calibration (Guo et al. 2017, "On Calibration of Modern Neural Networks"): does the
 * network's confidence match how often it is right? Samples are binned by confidence —
 * their highest class probability — and each bin's mean confidence is set against its
 * accuracy; a calibrated network has the two equal in every bin (the diagonal of a
 * reliability diagram).
 */

export interface CalibrationBin {
  /** The bin covers confidences [lo, hi); the last bin is [lo, 1]. */
  lo: number;
  hi: number;
  /** Samples whose confidence falls in the bin. */
  count: number;
  /** Mean highest probability of those samples; NaN when the bin is empty. */
  confidence: number;
  /** Fraction of them predicted right; NaN when the bin is empty. */
  accuracy: number;
}

/**
 * Bin the N samples by confidence into `bins` equal-width bins on [0, 1], and measure the
 * expected calibration error, the gap between accuracy and confidence weighted by how
 * many samples show it:
 *
 *   ECE = Σ_b (count_b / N) · |accuracy_b − confidence_b|
 *
 * (empty bins add nothing; NaN when N = 0). probabilities is [N × classes], row-major;
 * a sample is right when predicted[i] = labels[i]. A sample with a NaN probability is
 * left out (of N too).
 */
export function calibration(
  probabilities: Float64Array,
  classes: number,
  labels: Int32Array,
  predicted: Int32Array,
  bins = 10,
): { bins: CalibrationBin[]; ece: number } {
  if (probabilities.length !== labels.length * classes || predicted.length !== labels.length) {
    throw new Error(
      `calibration: ${probabilities.length} probabilities and ${predicted.length} predictions for ${labels.length} samples of ${classes} classes`,
    );
  }
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`calibration needs a whole number of bins ≥ 1, got ${bins}`);
  const count = new Array<number>(bins).fill(0);
  const confidenceSum = new Array<number>(bins).fill(0);
  const correct = new Array<number>(bins).fill(0);
  let N = 0;
  for (let i = 0; i < labels.length; i++) {
    let confidence = 0;
    for (let c = 0; c < classes; c++) confidence = Math.max(confidence, probabilities[i * classes + c]!);
    if (Number.isNaN(confidence)) continue; // scores that overflowed: no confidence to bin
    N++;
    const b = binOf(confidence, bins);
    count[b]!++;
    confidenceSum[b]! += confidence;
    if (predicted[i] === labels[i]) correct[b]!++;
  }
  let ece = N > 0 ? 0 : NaN;
  const result = count.map((n, b) => {
    const confidence = n > 0 ? confidenceSum[b]! / n : NaN;
    const accuracy = n > 0 ? correct[b]! / n : NaN;
    if (n > 0) ece += (n / N) * Math.abs(accuracy - confidence);
    return { lo: b / bins, hi: (b + 1) / bins, count: n, confidence, accuracy };
  });
  return { bins: result, ece };
}

/**
 * The bin [b/B, (b + 1)/B) holding p (the last bin also holds 1). floor(p·B) can be off by
 * one from that comparison after rounding (p·B is not exact), so it is checked against
 * the same bounds the bins report.
 */
function binOf(p: number, bins: number): number {
  let b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
  if (b < bins - 1 && p >= (b + 1) / bins) b++;
  else if (b > 0 && p < b / bins) b--;
  return b;
}
