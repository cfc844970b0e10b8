import { RunError } from '../errors.js';
import { decodeSnapshot } from '../snapshot/snapshot.js';
import { formatLr } from '../util/format.js';
import { NAN_ROLLBACK_REASON, type NanRecord } from './metrics.js';
import type { Trainer } from './trainer.js';

/** on_nan: rollback gives up after this many rollbacks. */
export const MAX_ROLLBACKS = 3;
/** on_nan: rollback asks the schedule to multiply the learning rate by this. */
const ROLLBACK_LR_FACTOR = 0.1;

/**
 * What to do when a batch's loss is NaN or infinite (`training.on_nan`). The step that
 * produced it has updated nothing (trainStep), so the run stands just before it.
 */
export type NanPolicy = (value: number, trainer: Trainer) => void;

export function nanPolicy(onNan: 'stop' | 'rollback'): NanPolicy {
  return onNan === 'stop' ? stopOnNan : rollbackOnNan;
}

/** on_nan: stop — record the event and end the run (exit 1) with a hint to lower the learning rate. */
export function stopOnNan(value: number, trainer: Trainer): never {
  const { progress, parts, log, dir } = trainer;
  const record = nanRecord(value, trainer);
  log.append({ ...record, action: 'stop' });
  const lr = parts.schedule.lr;
  const after = parts.config.training.on_nan === 'rollback' ? ` after ${progress.rollbacks} rollbacks` : '';
  throw new RunError(
    `the training loss became ${value} at epoch ${record.epoch}, step ${record.step}${after}: the learning rate ${lr} is probably too high; ` +
      // a tenth of the lr that diverged: after rollbacks (or schedule drops) that is
      // below the configured lr, and suggesting more than what failed would not help
      `try --set optimizer.lr=${Number((lr / 10).toPrecision(2))} (the last good snapshot is in ${dir.root})`,
  );
}

/**
 * on_nan: rollback — return to the rollback point (the last epoch snapshot, or the
 * initial state), ask the schedule to scale the learning rate by 0.1, and go on; after
 * MAX_ROLLBACKS rollbacks, stop as on_nan: stop does.
 */
function rollbackOnNan(value: number, trainer: Trainer): void {
  const { progress, parts, log, checkpointer, reporter } = trainer;
  const bytes = checkpointer.rollbackBytes;
  if (progress.rollbacks >= MAX_ROLLBACKS || bytes === undefined) stopOnNan(value, trainer);
  const record = nanRecord(value, trainer);
  const rollbacks = progress.rollbacks + 1;
  checkpointer.returnedToRollbackPoint();
  const snapshot = decodeSnapshot(bytes, trainer.dir.latestFile);
  trainer.restore(snapshot);
  log.cutTo(snapshot.state.metrics);
  progress.rollbacks = rollbacks;
  log.append({ ...record, action: 'rollback' });
  const change = parts.schedule.scaleBy(ROLLBACK_LR_FACTOR, NAN_ROLLBACK_REASON);
  log.append({ kind: 'lr_drop', epoch: record.epoch, ...change });
  reporter.warn(
    `the loss became ${value} at step ${record.step}; rolled back to step ${progress.step} (rollback ${rollbacks} of ${MAX_ROLLBACKS}), lr now ${formatLr(change.to)}`,
  );
  checkpointer.setRollbackPoint({ epoch: progress.epoch, metrics: log.position }, trainer.snapshotBytes());
}

function nanRecord(value: number, { progress, parts }: Trainer): Omit<NanRecord, 'action'> {
  return { kind: 'nan', epoch: progress.epoch + 1, step: progress.step + 1, loss: Number.isNaN(value) ? null : value, lr: parts.schedule.lr };
}
