import { InputError } from '../errors.js';
import { jsKernels, type Kernels } from './kernels.js';
import { nativeKernels, nativeStatus } from './native.js';
import { defaultThreads, type ThreadDefault } from './threadDefault.js';

export type BackendChoice = 'auto' | 'js' | 'native';

let threadDefault: ThreadDefault | undefined;

/**
 * Threads for the native BLAS unless --threads or DLT_THREADS says otherwise: the count
 * measured fastest on this machine when the addon was built (threadDefault.ts), else two
 * (one on a single-CPU machine). Worked out on first use, which loads the addon.
 */
export function nativeThreadDefault(): ThreadDefault {
  if (!threadDefault) {
    const native = nativeStatus();
    threadDefault = defaultThreads(native.loaded ? native.addon.info().config : undefined);
  }
  return threadDefault;
}

/**
 * The kernels for `--backend` (or DLT_BACKEND): `auto` takes the native addon when it
 * has loaded, and otherwise the JavaScript kernels with a `note` saying why (training
 * prints it in its start line); `native` insists on the addon and is an input error
 * without it.
 */
export function selectKernels(
  choice: string | undefined = process.env.DLT_BACKEND ?? 'auto',
  threads: number | undefined = threadsFromEnv(),
): Kernels {
  switch (choice) {
    case 'js':
      return jsKernels;
    case 'auto':
    case 'native': {
      const native = nativeStatus();
      if (native.loaded) return nativeKernels(native.addon, threads ?? nativeThreadDefault().threads);
      if (choice === 'native') {
        throw new InputError(
          `the native backend is unavailable: ${native.reason}. Install libopenblas-dev (Debian/Ubuntu) and run npm run build:native, or use --backend js`,
        );
      }
      return { ...jsKernels, note: `the native backend is ${native.reason}` };
    }
    default:
      throw new InputError(`unknown backend "${choice}"; choose auto, js or native`);
  }
}

function threadsFromEnv(): number | undefined {
  const value = process.env.DLT_THREADS;
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 1024) throw new InputError(`DLT_THREADS=${value}: expected a whole number from 1 to 1024`);
  return n;
}
