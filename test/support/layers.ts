import { expect } from 'vitest';
import { modelConfigSchema } from '../../src/config/schema.js';
import { InputError } from '../../src/errors.js';
import { Network } from '../../src/model/network.js';
import { jsKernels } from '../../src/tensor/kernels.js';
import { Rng } from '../../src/util/rng.js';

/** A float64 network from config-style layer specs (validated by the schema, as a config's would be). */
export function networkOf(input: number[], layers: unknown[]): Network {
  return new Network(modelConfigSchema.parse({ model: { input, layers } }).model.layers, input, {
    dtype: 'float64',
    kernels: jsKernels,
    rng: Rng.derive(1, 'init'),
    noise: Rng.derive(1, 'dropout'),
  });
}

/** The InputError that `f` throws; fails the test when it throws nothing or something else. */
export function inputErrorOf(f: () => unknown): InputError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}
