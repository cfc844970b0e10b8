import { readFileSync, rmSync } from 'node:fs';
import type { Config } from '../config/schema.js';
import { decodeSnapshot, readSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import type { MetricsPosition, RollbackPoint } from '../snapshot/trainingState.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { withIo } from '../util/ioError.js';
import type { RunDirectory } from './runDirectory.js';

/**
 * Which snapshots a run writes, and when (SPEC §4, §5):
 * - every `snapshot_every` epochs and after the last, `snapshots/epoch-NNNN` and `latest`,
 *   keeping the newest `keep_snapshots` epoch files;
 * - `best.safetensors` whenever validation accuracy improves;
 * - `latest` alone when a signal stops the run inside an epoch;
 * - with early stopping, the epoch snapshot of every epoch that improves its monitor, even
 *   off the cadence, and that of the best one is never pruned: an early-stopped run
 *   restores it (restore_best), also after a resume;
 * and the rollback point: the state on_nan: rollback returns to (the last epoch snapshot
 * on the cadence, or the initial state), kept in memory when the policy needs it.
 * Every file is written atomically, so a crash leaves the previous one intact.
 */
export class Checkpointer {
  /** Best validation accuracy so far: the epoch best.safetensors holds. */
  bestAccuracy: number | null = null;
  private point: RollbackPoint = { epoch: 0, metrics: { records: 0, last_sha256: null } };
  private pointBytes: Uint8Array | undefined;
  /** latest.safetensors is a snapshot past the rollback point (a run resumed from inside an epoch). */
  private latestAhead = false;
  /** The early-stopping best epoch, whose snapshot is kept; 0 for none. */
  keptEpoch = 0;
  /** That snapshot's bytes, when this process wrote it (a resumed run reads the file). */
  private keptBytes: Uint8Array | undefined;

  constructor(
    private readonly dir: RunDirectory,
    private readonly training: Config['training'],
    /** The snapshot of the run as it stands now, as file bytes. */
    private readonly capture: () => Uint8Array,
  ) {}

  get rollbackPoint(): RollbackPoint {
    return this.point;
  }

  /** The rollback point's snapshot bytes, when they are kept (on_nan: rollback). */
  get rollbackBytes(): Uint8Array | undefined {
    return this.pointBytes;
  }

  /**
   * The rollback point is `point`; keep its snapshot `bytes` when given (on_nan:
   * rollback). `latestAhead`: latest.safetensors holds a later state than the point.
   */
  setRollbackPoint(point: RollbackPoint, bytes: Uint8Array | undefined, latestAhead = false): void {
    this.point = point;
    this.pointBytes = bytes;
    this.latestAhead = latestAhead;
  }

  /**
   * Epoch `epoch` is done (and recorded in the log, now at `metrics`); `valAccuracy` is
   * its validation accuracy, if it had validation. Writes best and the epoch snapshot as
   * the cadence says; an epoch snapshot becomes the rollback point.
   */
  epochEnd(epoch: number, valAccuracy: number | null, metrics: MetricsPosition, stopping: { improved: boolean; stop: boolean }): void {
    const improved = valAccuracy !== null && (this.bestAccuracy === null || valAccuracy > this.bestAccuracy);
    if (improved) this.bestAccuracy = valAccuracy;
    const onCadence = epoch % this.training.snapshot_every === 0 || epoch === this.training.epochs || stopping.stop || stopping.improved;
    if (stopping.improved) this.keptEpoch = epoch;
    if (onCadence) this.point = { epoch, metrics };
    if (!improved && !onCadence) return;
    const bytes = this.capture();
    // best before latest: a crash between the two then resumes from the previous latest
    // and redoes this epoch, rewriting best. The other order would resume from this
    // epoch's latest, which already counts this epoch as the best, and best.safetensors
    // would keep an older epoch for good.
    if (improved) writeFileAtomic(this.dir.bestFile, bytes);
    if (!onCadence) return;
    writeFileAtomic(this.dir.epochFile(epoch), bytes);
    writeFileAtomic(this.dir.latestFile, bytes);
    if (stopping.improved) this.keptBytes = this.training.early_stopping?.restore_best ? bytes : undefined;
    const epochs = this.dir.epochFiles().filter((e) => e.epoch !== this.keptEpoch);
    for (const { file } of epochs.slice(0, Math.max(0, epochs.length - this.training.keep_snapshots))) {
      withIo('remove', file, () => rmSync(file, { force: true }));
    }
    if (this.pointBytes !== undefined) this.pointBytes = bytes;
    this.latestAhead = false;
  }

  /** The kept (early-stopping best) epoch's snapshot: from memory, or its file. */
  keptSnapshot(): Snapshot {
    const file = this.dir.epochFile(this.keptEpoch);
    return this.keptBytes ? decodeSnapshot(this.keptBytes, file) : readSnapshot(file);
  }

  /** Replace latest by the run as it stands (an early-stopped run restored to its best epoch). */
  writeLatest(): void {
    writeFileAtomic(this.dir.latestFile, this.capture());
  }

  /** A signal stopped the run inside an epoch: write latest. */
  interrupt(): void {
    writeFileAtomic(this.dir.latestFile, this.capture());
  }

  /**
   * The run has rolled back to the rollback point. When latest had moved past it (the
   * run resumed from inside an epoch), latest becomes that epoch's snapshot again (none
   * for the initial state), as in the run that was never interrupted.
   */
  returnedToRollbackPoint(): void {
    if (!this.latestAhead) return;
    const { epoch } = this.point;
    if (epoch === 0) withIo('remove', this.dir.latestFile, () => rmSync(this.dir.latestFile, { force: true }));
    else
      writeFileAtomic(
        this.dir.latestFile,
        withIo('read', this.dir.epochFile(epoch), () => readFileSync(this.dir.epochFile(epoch))),
      );
    this.latestAhead = false;
  }
}
