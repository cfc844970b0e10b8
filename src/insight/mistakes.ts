/**
 * The network's most confident mistakes: samples it got wrong while finding its wrong
 * answer very probable. They are where mislabelled data and real blind spots show.
 */
import type { ActivationScan } from './activationScan.js';
import { TopK } from './topK.js';

export interface Mistake {
  /** Position of the sample in the split. */
  sample: number;
  /** Its true class. */
  label: number;
  /** The class the network gave it. */
  predicted: number;
  /** The probability the network gave that (wrong) class. */
  probability: number;
}

/**
 * At most k wrong predictions, most confident first (ties: lower sample first); fewer
 * when there are fewer mistakes.
 */
export function confidentMistakes(scan: Pick<ActivationScan, 'labels' | 'predicted' | 'probabilities' | 'classes'>, k: number): Mistake[] {
  const { labels, predicted, probabilities, classes } = scan;
  // Offered in sample order, so on a tie TopK keeps and lists the lower sample first.
  const worst = new TopK<Mistake>(k, (m) => m.probability);
  labels.forEach((label, sample) => {
    const guess = predicted[sample]!;
    if (guess !== label) worst.push({ sample, label, predicted: guess, probability: probabilities[sample * classes + guess]! });
  });
  return worst.sorted();
}
