import { InputError } from '../errors.js';
import type { TrainingSignals } from '../train/signals.js';
import type { StopSignal } from '../train/trainer.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** SPEC §2: interrupted by SIGINT or SIGTERM. */
const INTERRUPTED = 130;

/**
 * Every command but train and resume: a signal ends dlt at once (exit 130). Handling it
 * at all, rather than dying by it, lets a synchronous write finish first, so an atomic
 * write never leaves its temporary file behind.
 */
export function exitOnSignal(): void {
  for (const signal of SIGNALS) process.on(signal, onExitSignal);
}

function onExitSignal(): void {
  process.exit(INTERRUPTED);
}

/**
 * dlt train and resume, in two phases. While the config, data and snapshot are read, a
 * signal is remembered and stops the command before its first write (exit 2, nothing
 * written). Once training starts, the first signal asks the loop to finish its batch,
 * write a snapshot and exit 130; a second ends dlt at once (exit 130, the previous
 * snapshot intact: snapshots are written atomically).
 */
export function trainingSignals(stderr: (text: string) => void): TrainingSignals {
  let training = false;
  let duringSetup: NodeJS.Signals | undefined;
  const stop: StopSignal = { requested: false };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!training) {
      duringSetup ??= signal;
      return;
    }
    if (stop.requested) {
      stderr(`\n${signal} again: stopping now, without a new snapshot\n`);
      process.exit(INTERRUPTED);
    }
    stop.requested = true;
    stderr(`\n${signal}: finishing the current batch and writing a snapshot (send it again to stop at once)\n`);
  };
  for (const signal of SIGNALS) {
    process.off(signal, onExitSignal);
    process.on(signal, onSignal);
  }
  return {
    beforeFirstWrite: async () => {
      await new Promise((resolve) => setImmediate(resolve)); // let a pending signal's handler run
      if (duringSetup) throw new InputError(`interrupted by ${duringSetup} before training started; nothing was written`);
    },
    startTraining: () => {
      training = true;
      return stop;
    },
  };
}
