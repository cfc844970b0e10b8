import { existsSync, statSync } from 'node:fs';
import { InputError } from '../errors.js';
import { readSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import { checkBelongsToRun, readRunConfig } from '../train/resumeConfig.js';
import { RunDirectory } from '../train/runDirectory.js';
import { withIo } from '../util/ioError.js';

/** Which snapshot of a run directory a reader wants first: eval the best model, inspect where training stands. */
export type Preference = 'best' | 'latest';

/**
 * The snapshot a reader command (eval, inspect) takes from `target`: the file itself, or
 * in a run directory best.safetensors or snapshots/latest.safetensors, whichever
 * `prefer` names first and is present. A run directory's snapshot is checked to belong
 * to the run (its config.yaml), so a file copied in from elsewhere is not taken for it.
 */
export function readTargetSnapshot(target: string, prefer: Preference): Snapshot {
  if (!existsSync(target)) throw new InputError('no such run directory or snapshot file', target);
  if (!withIo('read', target, () => statSync(target)).isDirectory()) return readSnapshot(target);
  const dir = RunDirectory.at(target);
  const order = prefer === 'best' ? [dir.bestFile, dir.latestFile] : [dir.latestFile, dir.bestFile];
  const file = order.find((f) => existsSync(f));
  if (!file) throw new InputError('not a run directory: it has neither best.safetensors nor snapshots/latest.safetensors', target);
  const snapshot = readSnapshot(file);
  if (existsSync(dir.configFile)) checkBelongsToRun(snapshot, readRunConfig(dir));
  return snapshot;
}
