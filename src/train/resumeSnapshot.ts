import { existsSync } from 'node:fs';
import { InputError } from '../errors.js';
import { readSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import type { RollbackPoint } from '../snapshot/trainingState.js';
import type { Reporter } from './reporter.js';
import { checkBelongsToRun, readRunConfig } from './resumeConfig.js';
import type { RunDirectory } from './runDirectory.js';
import { checkSnapshotFits, type Trainer } from './trainer.js';

/**
 * The snapshot `dlt resume` continues from: snapshots/latest.safetensors, or, when it
 * does not verify or belongs to another run, the newest epoch snapshot that does (with
 * a warning naming the bad file).
 */
export function newestIntactSnapshot(dir: RunDirectory, reporter: Reporter): Snapshot {
  const candidates = [
    dir.latestFile,
    ...dir
      .epochFiles()
      .map((e) => e.file)
      .reverse(),
  ].filter((f) => existsSync(f));
  if (candidates.length === 0) throw new InputError('no intact snapshot to resume from (snapshots/ is empty)', dir.root);
  const runConfig = readRunConfig(dir);
  const problems: string[] = [];
  for (const file of candidates) {
    try {
      const snapshot = readSnapshot(file);
      checkBelongsToRun(snapshot, runConfig);
      if (problems.length > 0) reporter.warn(`${problems.join('; ')}; resuming from ${file} instead`);
      return snapshot;
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(`${file} is unusable (${err.message})`);
    }
  }
  throw new InputError(`no intact snapshot to resume from: ${problems.join('; ')}`, dir.root);
}

/**
 * Restore `snapshot` into a freshly built trainer, with the rollback point as the run
 * that never stopped holds it: with on_nan: rollback, the state of the epoch snapshot its
 * `last_good` names (or the initial state), carrying the run's rollback count and lr
 * scale, which no rollback has changed since. When that file is gone or damaged, the run
 * rolls back to the snapshot it resumed from instead, with a warning.
 */
export function restoreForResume(t: Trainer, snapshot: Snapshot, reporter: Reporter): void {
  const { state } = snapshot;
  const at = state.last_good;
  const rollback = t.parts.config.training.on_nan === 'rollback';
  const base = at && rollback ? rollbackBase(t, snapshot, at, reporter) : undefined;
  let bytes: Uint8Array | undefined;
  if (at && base) {
    if (base === 'initial') {
      // (freshly built, the trainer holds the initial state)
      t.parts.schedule.fromState({ ...t.parts.schedule.toState(), scale: state.schedule.scale });
      t.progress.rollbacks = state.rollbacks;
    } else {
      t.restore({ ...base, state: { ...base.state, rollbacks: state.rollbacks, schedule: { ...base.state.schedule, scale: state.schedule.scale } } });
    }
    bytes = t.snapshotBytes(at.metrics);
  }
  t.restore(snapshot);
  if (rollback) bytes ??= t.snapshotBytes();
  t.checkpointer.setRollbackPoint(at ?? { epoch: state.epoch, metrics: state.metrics }, bytes, base !== undefined && base !== snapshot);
}

/** What the rollback point's state is restored from: the initial state, this snapshot, or an epoch snapshot. */
function rollbackBase(t: Trainer, snapshot: Snapshot, at: RollbackPoint, reporter: Reporter): Snapshot | 'initial' | undefined {
  if (at.epoch === 0) return 'initial';
  if (at.epoch === snapshot.state.epoch && snapshot.state.batch === 0) return snapshot;
  const file = t.dir.epochFile(at.epoch);
  try {
    const base = readSnapshot(file);
    checkSnapshotFits(t.parts, base);
    return base;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    reporter.warn(
      `on_nan: rollback would return to ${file}, which is unusable (${err.message}); a NaN will roll back to the snapshot resumed from instead`,
    );
    return undefined;
  }
}
