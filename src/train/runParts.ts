import type { Config } from '../config/schema.js';
import { Augmenter } from '../data/augment.js';
import { checkLabels, loadSplits, type Splits } from '../data/load.js';
import { Preprocessor } from '../data/preprocessor.js';
import { withBalancedClassWeights } from '../losses/classWeights.js';
import type { Loss } from '../losses/loss.js';
import { createLoss } from '../losses/registry.js';
import { buildNetwork } from '../model/build.js';
import type { Network } from '../model/network.js';
import type { Optimizer } from '../optim/optimizer.js';
import { createOptimizer } from '../optim/registry.js';
import { Regularizer } from '../optim/regularization.js';
import { createSchedule } from '../schedule/registry.js';
import type { Schedule } from '../schedule/schedule.js';
import type { Kernels } from '../tensor/kernels.js';
import { Rng } from '../util/rng.js';

/**
 * Everything a config builds for training, before the first step: the data, the model
 * and its loss, the optimiser and regulariser over the model's parameters, the
 * learning-rate schedule, the preprocessing fitted on the training split, and the
 * random streams that training draws from. Each random choice has its own stream of
 * the seed ("init" for weights, "dropout", "shuffle", "augment", and one per generated data set),
 * so adding dropout does not change the initial weights.
 */
export interface RunParts {
  readonly config: Config;
  readonly kernels: Kernels;
  readonly splits: Splits;
  readonly network: Network;
  readonly loss: Loss;
  readonly optimizer: Optimizer;
  readonly regularizer: Regularizer;
  readonly schedule: Schedule;
  readonly preprocessor: Preprocessor;
  /** The stream the network's dropout layers draw their masks from. */
  readonly dropoutRng: Rng;
  /** The stream each epoch's shuffle draws from. */
  readonly shuffleRng: Rng;
  /** data.augment's transforms of the training batches; undefined without augmentation. */
  readonly augmenter: Augmenter | undefined;
  /** The stream the augmenter draws from (derived even when there is no augmenter). */
  readonly augmentRng: Rng;
}

/**
 * Build a run from its config. Reads the data, so every problem with the input (files,
 * labels, shapes) surfaces here, before anything is written. `classes` is a resumed
 * run's class names (from its snapshot), so that CSV labels map as they did before.
 * The parts' config is the one given with `loss.class_weights: balanced` resolved.
 */
export function buildRunParts(config: Config, kernels: Kernels, classes?: readonly string[]): RunParts {
  const splits = loadSplits(config, undefined, classes);
  const { network, noise } = buildNetwork(config, kernels);
  checkLabels(splits, network.outputSize, config.data.class_names);
  // class_weights: balanced becomes its list, from the training split: config.yaml and snapshots record the numbers.
  const resolved = withBalancedClassWeights(config, splits.train, network.outputSize, splits.classNames);
  const loss = createLoss(resolved.loss, network.outputSize, config.training.dtype);
  const params = network.namedParams();
  const augmentRng = Rng.derive(config.seed, 'augment');
  return {
    config: resolved,
    kernels,
    splits,
    network,
    loss,
    optimizer: createOptimizer(config.optimizer, params, kernels),
    regularizer: new Regularizer(config.regularization, params, kernels),
    schedule: createSchedule(config.schedule, config.optimizer.lr),
    preprocessor: Preprocessor.fit(config.data.preprocess, splits.train, kernels),
    dropoutRng: noise,
    shuffleRng: Rng.derive(config.seed, 'shuffle'),
    augmenter: Augmenter.build(config.data.augment, config.model.input, augmentRng),
    augmentRng,
  };
}

/** Optimiser steps in one epoch: the last batch may be partial. */
export function stepsPerEpoch(parts: RunParts): number {
  return Math.ceil(parts.splits.train.indices.length / parts.config.training.batch_size);
}
