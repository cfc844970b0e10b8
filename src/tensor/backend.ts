import { InputError } from '../errors.js';
import { jsKernels, type Kernels } from './kernels.js';

export type BackendChoice = 'auto' | 'js' | 'native';

/**
 * The kernels for `--backend` (or DLT_BACKEND). Only the JavaScript backend exists so
 * far; `auto` picks it, and asking for `native` explicitly is an input error.
 */
export function selectKernels(choice: string | undefined = process.env.DLT_BACKEND ?? 'auto'): Kernels {
  switch (choice) {
    case 'auto':
    case 'js':
      return jsKernels;
    case 'native':
      throw new InputError('the native backend is not part of this build yet; use --backend js (or auto)');
    default:
      throw new InputError(`unknown backend "${choice}"; choose auto, js or native`);
  }
}
