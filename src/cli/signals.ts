import { InputError } from '../errors.js';
import type { StopSignal, TrainingSignals } from '../train/signals.js';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
/** SPEC §2: interrupted by SIGINT or SIGTERM. */
const INTERRUPTED = 130;

/**
 * What a SIGINT or SIGTERM does, set by the command that runs. One listener stays
 * installed for the life of the process (removing Node's last listener for a signal
 * would give it back its default action, which kills, for a moment).
 */
let onSignal: (signal: NodeJS.Signals) => void = exitNow;
let listening = false;

/**
 * From now on dlt handles SIGINT and SIGTERM itself. By default a signal ends dlt at
 * once (exit 130); handling it at all, rather than dying by it, lets a synchronous write
 * finish first, so an atomic write never leaves its temporary file behind.
 */
export function handleSignals(): void {
  if (listening) return;
  listening = true;
  for (const signal of SIGNALS) process.on(signal, (s: NodeJS.Signals) => onSignal(s));
}

function exitNow(): void {
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
  handleSignals();
  onSignal = (signal) => {
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
  return {
    beforeFirstWrite: async () => {
      // A signal that arrived during the synchronous setup reaches its listener when the
      // event loop polls for I/O; measured, that takes two turns of the loop after a long
      // synchronous stretch. (A short timer does not do: the loop's clock is stale after
      // such a stretch, so the timer fires before the poll.) Three turns, to be sure.
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      if (duringSetup) throw new InputError(`interrupted by ${duringSetup} before training started; nothing was written`);
    },
    startTraining: () => {
      training = true;
      return stop;
    },
  };
}
