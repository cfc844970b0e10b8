/**
 * Where a run stands and what it has counted so far: plain numbers, saved in every
 * snapshot (src/snapshot/trainingState.ts) and restored on resume and rollback.
 */
export class Progress {
  /** Epochs completed. */
  epoch = 0;
  /** Batches done in epoch `epoch + 1` (0 at an epoch boundary). */
  batch = 0;
  /** Optimiser steps taken. */
  step = 0;
  /** NaN rollbacks so far (on_nan: rollback gives up after MAX_ROLLBACKS). */
  rollbacks = 0;
  /** Training seconds so far (wall clock; excluded from exactness). */
  trainSeconds = 0;
}
