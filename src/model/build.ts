import type { Config } from '../config/schema.js';
import type { Loss } from '../losses/loss.js';
import { createLoss } from '../losses/registry.js';
import type { Kernels } from '../tensor/kernels.js';
import type { DType } from '../tensor/types.js';
import { Rng } from '../util/rng.js';
import { Network } from './network.js';

/** What building a model reads: a full config, or the model part of one (dlt gradcheck). */
export type ModelSource = Pick<Config, 'seed' | 'model' | 'loss'> & { training?: Pick<Config['training'], 'dtype'> };

/**
 * The network and loss a config describes, with initial weights from the seed's "init"
 * stream; `noise` is the "dropout" stream the network's layers draw from in training.
 */
export function buildModel(
  config: ModelSource,
  kernels: Kernels,
  dtype: DType = config.training?.dtype ?? 'float32',
): { network: Network; loss: Loss; noise: Rng } {
  const { network, noise } = buildNetwork(config, kernels, dtype);
  return { network, loss: createLoss(config.loss, network.outputSize, dtype), noise };
}

/**
 * The network alone, as buildModel builds it: for a run whose loss needs the network's
 * number of outputs and the data first (`class_weights: balanced`).
 */
export function buildNetwork(
  config: Omit<ModelSource, 'loss'>,
  kernels: Kernels,
  dtype: DType = config.training?.dtype ?? 'float32',
): { network: Network; noise: Rng } {
  const noise = Rng.derive(config.seed, 'dropout');
  const network = new Network(config.model.layers, config.model.input, { dtype, kernels, rng: Rng.derive(config.seed, 'init'), noise });
  return { network, noise };
}
