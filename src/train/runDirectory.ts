import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';
import { ioError, withIo } from '../util/ioError.js';
import { createStampedFolder } from '../util/stampedFolder.js';

/** The longest file name most file systems allow, in bytes. */
const NAME_MAX = 255;
/** `-YYYYMMDD-HHMMSS` and room for a `-k` suffix. */
const STAMP_LENGTH = '-20261130-120000-99'.length;
const EPOCH_FILE = /^epoch-(\d+)\.safetensors$/;
/** The atomic writer's temporary files: `.<name>.<pid>.<random>.tmp`. */
const TEMP_FILE = /^\..+\.tmp$/;

/**
 * A run directory (SPEC §4) and every path in it. This is the one place that spells out
 * the layout; every command asks it for paths:
 *
 *   <name>-<YYYYMMDD-HHMMSS>/
 *     config.yaml  metrics.jsonl  metrics.csv  best.safetensors  summary.json
 *     plot.svg  plot.html  dlt.lock
 *     snapshots/epoch-NNNN.safetensors  snapshots/latest.safetensors
 */
export class RunDirectory {
  private constructor(readonly root: string) {}

  /**
   * Check, before any work, that a run directory for `name` can be created under
   * `outDir`: every part of it that exists is a folder, the nearest one is writable,
   * and the folder name fits the file system. Nothing is created.
   */
  static checkCreatable(outDir: string, name: string): void {
    const folderName = Buffer.byteLength(name) + STAMP_LENGTH;
    if (folderName > NAME_MAX) {
      throw new InputError(
        `the run name is ${Buffer.byteLength(name)} bytes long, too long for a folder name; choose a name of at most ${NAME_MAX - STAMP_LENGTH}`,
      );
    }
    let existing = path.resolve(outDir);
    while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
    const stat = withIo('read', existing, () => statSync(existing));
    if (!stat.isDirectory()) {
      const what = existing === path.resolve(outDir) ? '--out names a file' : `--out ${outDir} passes through a file`;
      throw new InputError(`${what}, not a folder; give a folder in which to create the run directory`, existing);
    }
    try {
      accessSync(existing, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw ioError(err, 'create a run directory in this folder', existing);
    }
  }

  /** Create `<outDir>/<name>-<YYYYMMDD-HHMMSS>/` and its snapshots/ folder; `-2`, `-3`, ... when taken. */
  static create(outDir: string, name: string, now: Date = new Date()): RunDirectory {
    return RunDirectory.withSnapshotsFolder(createStampedFolder(outDir, name, now));
  }

  /**
   * Create the run directory at exactly `root` (a sweep's `trials/trial-NNNN`), whose
   * parent exists; refused when something is already there.
   */
  static createAt(root: string): RunDirectory {
    try {
      mkdirSync(root);
    } catch (err) {
      if (err instanceof Error && 'code' in err && err.code === 'EEXIST') {
        throw new InputError('a run directory is already here; resume it with dlt resume, or train into another folder', root);
      }
      throw ioError(err, 'create the folder', root);
    }
    return RunDirectory.withSnapshotsFolder(root);
  }

  private static withSnapshotsFolder(root: string): RunDirectory {
    const dir = new RunDirectory(root);
    withIo('create the folder', dir.snapshotsDir, () => mkdirSync(dir.snapshotsDir));
    return dir;
  }

  /** An existing run directory, for `dlt resume` (it needs config.yaml and snapshots/). */
  static open(root: string): RunDirectory {
    const dir = RunDirectory.at(root);
    if (!existsSync(dir.configFile) || !existsSync(dir.snapshotsDir)) {
      throw new InputError('not a run directory (it needs config.yaml and snapshots/); give a folder that dlt train created', root);
    }
    return dir;
  }

  /** The run directory at `root`, for readers that check themselves what they need. */
  static at(root: string): RunDirectory {
    if (!existsSync(root))
      throw new InputError(
        'no such run directory: nothing is there, so it is not a run directory; give the folder dlt train printed on its first line',
        root,
      );
    if (!withIo('read', root, () => statSync(root)).isDirectory())
      throw new InputError('this is a file, not a run directory; give the folder dlt train printed on its first line', root);
    return new RunDirectory(root);
  }

  get configFile(): string {
    return path.join(this.root, 'config.yaml');
  }
  get metricsFile(): string {
    return path.join(this.root, 'metrics.jsonl');
  }
  get metricsCsvFile(): string {
    return path.join(this.root, 'metrics.csv');
  }
  get summaryFile(): string {
    return path.join(this.root, 'summary.json');
  }
  get bestFile(): string {
    return path.join(this.root, 'best.safetensors');
  }
  get lockFile(): string {
    return path.join(this.root, 'dlt.lock');
  }
  get snapshotsDir(): string {
    return path.join(this.root, 'snapshots');
  }
  get latestFile(): string {
    return path.join(this.snapshotsDir, 'latest.safetensors');
  }
  /** plot.svg and plot.html (dlt plot's default output). */
  get plotFiles(): { svg: string; html: string } {
    return { svg: path.join(this.root, 'plot.svg'), html: path.join(this.root, 'plot.html') };
  }

  epochFile(epoch: number): string {
    return path.join(this.snapshotsDir, `epoch-${String(epoch).padStart(4, '0')}.safetensors`);
  }

  /** The epoch snapshots present, oldest first. */
  epochFiles(): { epoch: number; file: string }[] {
    const names = withIo('list', this.snapshotsDir, () => readdirSync(this.snapshotsDir));
    return names
      .flatMap((name) => {
        const match = EPOCH_FILE.exec(name);
        return match ? [{ epoch: Number(match[1]), file: path.join(this.snapshotsDir, name) }] : [];
      })
      .sort((a, b) => a.epoch - b.epoch);
  }

  /**
   * Remove temporary files that a killed process left behind mid-write. Nothing reads
   * them; only the run directory's owner (who holds the lock) may do this, since
   * another writer's temporary file looks just the same.
   */
  removeStaleTemps(): void {
    for (const folder of [this.root, this.snapshotsDir]) {
      for (const name of withIo('list', folder, () => readdirSync(folder))) {
        if (TEMP_FILE.test(name)) withIo('remove', path.join(folder, name), () => rmSync(path.join(folder, name), { force: true }));
      }
    }
  }
}
