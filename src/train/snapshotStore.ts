import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite.js';

/**
 * The snapshot files of a run directory (SPEC §4): `snapshots/epoch-NNNN.safetensors`
 * (the newest `keep` of them), `snapshots/latest.safetensors`, and `best.safetensors`.
 * Every file is written atomically, so a crash leaves the previous one intact.
 */
export class SnapshotStore {
  private readonly folder: string;
  readonly latestPath: string;

  constructor(
    readonly runDir: string,
    private readonly keep: number,
  ) {
    this.folder = path.join(runDir, 'snapshots');
    this.latestPath = path.join(this.folder, 'latest.safetensors');
  }

  /**
   * Remove temporary files that a killed process left behind mid-write (the atomic
   * writer's `.<name>.<pid>.<random>.tmp`). Nothing reads them; this keeps the folder tidy.
   */
  removeStaleTemps(): void {
    for (const dir of [this.runDir, this.folder]) {
      for (const f of readdirSync(dir)) if (/^\..+\.tmp$/.test(f)) rmSync(path.join(dir, f), { force: true });
    }
  }

  /** A mid-epoch snapshot (on a signal): latest only. */
  saveLatest(bytes: Uint8Array): void {
    writeFileAtomic(this.latestPath, bytes);
  }

  /** Write the snapshot of `epoch` as epoch-NNNN and latest, then prune old epoch files. */
  saveEpoch(epoch: number, bytes: Uint8Array): void {
    writeFileAtomic(this.epochPath(epoch), bytes);
    writeFileAtomic(this.latestPath, bytes);
    const epochs = readdirSync(this.folder)
      .filter((f) => /^epoch-\d+\.safetensors$/.test(f))
      .sort();
    for (const f of epochs.slice(0, Math.max(0, epochs.length - this.keep))) rmSync(path.join(this.folder, f));
  }

  /**
   * After a rollback to epoch `epoch` (0: the initial state) by a run resumed mid-epoch:
   * latest becomes that epoch's snapshot again (none for 0), as in the run that was never
   * interrupted, instead of the abandoned state it was stopped at.
   */
  restoreLatest(epoch: number): void {
    if (epoch === 0) rmSync(this.latestPath, { force: true });
    else writeFileAtomic(this.latestPath, readFileSync(this.epochPath(epoch)));
  }

  epochPath(epoch: number): string {
    return path.join(this.folder, `epoch-${String(epoch).padStart(4, '0')}.safetensors`);
  }

  saveBest(bytes: Uint8Array): void {
    writeFileAtomic(path.join(this.runDir, 'best.safetensors'), bytes);
  }
}
