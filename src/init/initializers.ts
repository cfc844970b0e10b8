import type { InitSpec } from '../config/schema.js';
import type { FloatArray } from '../tensor/types.js';
import type { Rng } from '../util/rng.js';

/**
 * Weight initialisation (tutorial, "Initialization"). Zeros is fine for biases but not
 * for weights: every unit would learn the same thing. Small Gaussians make the
 * activation variance grow with the number of inputs, which Xavier (variance 1/fan_in,
 * Glorot & Bengio 2010) and Kaiming (variance 2/fan_in, He et al. 2015, for ReLUs)
 * correct. fan_in is the number of inputs a unit sees: a dense layer's input size.
 */
export type Initializer = (target: FloatArray, fanIn: number, rng: Rng) => void;

function gaussian(std: number): Initializer {
  return (target, _fanIn, rng) => {
    for (let i = 0; i < target.length; i++) target[i] = std * rng.normal();
  };
}

export function initializer(spec: InitSpec): Initializer {
  switch (spec.type) {
    case 'zeros':
      return (target) => target.fill(0);
    case 'constant':
      return (target) => target.fill(spec.value);
    case 'gaussian':
      return gaussian(spec.std);
    case 'uniform':
      // U(−limit, limit): mean 0, variance limit²/3.
      return (target, _fanIn, rng) => {
        for (let i = 0; i < target.length; i++) target[i] = spec.limit * (2 * rng.nextFloat() - 1);
      };
    case 'xavier':
      return (target, fanIn, rng) => gaussian(Math.sqrt(1 / fanIn))(target, fanIn, rng);
    case 'kaiming':
      return (target, fanIn, rng) => gaussian(Math.sqrt(2 / fanIn))(target, fanIn, rng);
  }
}
