import { classNamesOf, loadSplits, type SplitName, type Splits } from '../data/load.js';
import { Preprocessor } from '../data/preprocessor.js';
import { loadParams, type Snapshot } from '../snapshot/snapshot.js';
import type { Kernels } from '../tensor/kernels.js';
import { buildNetwork } from './build.js';
import type { Network } from './network.js';

/**
 * A trained network ready to answer for new samples (dlt export, dlt predict): the
 * snapshot's parameters in the network its config describes, and the preprocessing the
 * run trained with. The preprocessing is fitted again from the run's training split, as
 * dlt eval does (`standardize` needs its per-feature statistics), so the run's training
 * data must still be where its config says.
 */
export interface TrainedModel {
  snapshot: Snapshot;
  network: Network;
  preprocessor: Preprocessor;
  /** What to call class k, when the run has names for its classes (classNamesOf). */
  classNames?: readonly string[];
  /** The run's splits as loadSplits read them: train, and those asked for with `also`. */
  splits: Splits;
}

/**
 * @param also splits to load beside the training split, in the same read (dlt report
 *   looks at the test or validation split), labels mapped with the snapshot's classes.
 */
export function loadTrainedModel(snapshot: Snapshot, kernels: Kernels, also: readonly SplitName[] = []): TrainedModel {
  const { config } = snapshot;
  const { network } = buildNetwork(config, kernels);
  loadParams(network, snapshot);
  const splits = loadSplits(config, new Set(['train', ...also]), snapshot.classes);
  const preprocessor = Preprocessor.fit(config.data.preprocess, splits.train, kernels);
  const classNames = classNamesOf(config, snapshot.classes);
  return { snapshot, network, preprocessor, splits, ...(classNames ? { classNames } : {}) };
}
