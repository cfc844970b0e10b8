/** What a signal sets once training has started: finish the batch, snapshot, stop. */
export interface StopSignal {
  requested: boolean;
}

/**
 * How training hears of SIGINT and SIGTERM. The CLI supplies the real one
 * (src/cli/signals.ts); library callers and tests may leave it out.
 */
export interface TrainingSignals {
  /**
   * Called once setup (config, data, model, snapshot) is done and before the first write:
   * lets a signal that arrived meanwhile be seen, and throws when one did, so that an
   * interrupted setup leaves nothing behind.
   */
  beforeFirstWrite(): Promise<void>;
  /** Training starts: from now on a signal asks it to finish the batch, snapshot and stop. */
  startTraining(): StopSignal;
}

/** No signal handling: setup is never interrupted, training never asked to stop. */
export const ignoreSignals: TrainingSignals = {
  beforeFirstWrite: async () => {},
  startTraining: () => ({ requested: false }),
};
