import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../util/atomicWrite.js';
import { withIo } from '../util/ioError.js';
import { createStampedFolder } from '../util/stampedFolder.js';
import type { Sweep } from './sweepFile.js';
import { SWEEP_METRICS } from './sweepSchema.js';
import { trialName } from './trials.js';

/**
 * A sweep directory (SPEC §6) and every path in it:
 *
 *   <name>-<YYYYMMDD-HHMMSS>/
 *     sweep.yaml        the resolved sweep: its settings and every trial with its values
 *     trials/trial-NNNN/  ordinary run directories
 *     results.jsonl     one line per finished or failed trial
 *     leaderboard.csv   the trials, best first
 *     sweep.lock        while a coordinator runs it
 *     plot.svg, plot.html  written by dlt plot
 */
export class SweepDirectory {
  private constructor(readonly root: string) {}

  /** Create `<outDir>/<name>-<YYYYMMDD-HHMMSS>/trials/` and write sweep.yaml. */
  static create(outDir: string, sweep: Sweep): SweepDirectory {
    const dir = new SweepDirectory(createStampedFolder(outDir, sweep.spec.name));
    withIo('create the folder', dir.trialsDir, () => mkdirSync(dir.trialsDir));
    writeFileAtomic(dir.sweepFile, toYaml(sweepRecord(sweep)));
    return dir;
  }

  /** An existing sweep directory, for status and --resume (it needs sweep.yaml). */
  static open(root: string): SweepDirectory {
    const dir = new SweepDirectory(root);
    if (!existsSync(root)) throw new InputError('no such sweep directory; give the folder dlt sweep printed on its first line', root);
    if (!withIo('read', root, () => statSync(root)).isDirectory()) throw new InputError('this is a file, not a sweep directory', root);
    if (!existsSync(dir.sweepFile)) {
      throw new InputError('not a sweep directory (it has no sweep.yaml); give the folder dlt sweep printed on its first line', root);
    }
    return dir;
  }

  /** Whether `root` is a folder holding a sweep.yaml: a sweep directory rather than a run directory. */
  static isSweepDirectory(root: string): boolean {
    return existsSync(new SweepDirectory(root).sweepFile);
  }

  /** The resolved sweep.yaml, parsed. */
  readRecord(): SweepRecord {
    const text = withIo('read', this.sweepFile, () => readFileSync(this.sweepFile, 'utf8'));
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (err) {
      throw new InputError(
        `not valid YAML (${(err instanceof Error ? err.message : String(err)).split('\n')[0]}); the sweep directory is damaged`,
        this.sweepFile,
      );
    }
    const parsed = sweepRecordSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(
        `not a sweep.yaml written by dlt sweep (${issue?.path.join('.') || 'top level'}: ${issue?.message}); the sweep directory is damaged`,
        this.sweepFile,
      );
    }
    return parsed.data;
  }

  get name(): string {
    return path.basename(this.root);
  }
  get sweepFile(): string {
    return path.join(this.root, 'sweep.yaml');
  }
  get resultsFile(): string {
    return path.join(this.root, 'results.jsonl');
  }
  get leaderboardFile(): string {
    return path.join(this.root, 'leaderboard.csv');
  }
  get lockFile(): string {
    return path.join(this.root, 'sweep.lock');
  }
  /** plot.svg and plot.html (dlt plot's default output for a sweep). */
  get plotFiles(): { svg: string; html: string } {
    return { svg: path.join(this.root, 'plot.svg'), html: path.join(this.root, 'plot.html') };
  }
  get trialsDir(): string {
    return path.join(this.root, 'trials');
  }
  /** A trial's run directory, relative to the folder the sweep directory is in (a job's run_path). */
  trialRunPath(id: number): string {
    return path.join(this.name, 'trials', trialName(id));
  }
  trialDir(id: number): string {
    return path.join(this.trialsDir, trialName(id));
  }
}

/** sweep.yaml: the sweep as it was resolved, with its trials. */
export const sweepRecordSchema = z.object({
  name: z.string(),
  sweep_file: z.string(),
  base: z.string(),
  method: z.enum(['grid', 'random']),
  seed: z.number(),
  metric: z.object({ name: z.enum(SWEEP_METRICS), goal: z.enum(['maximize', 'minimize']) }),
  parameters: z.record(z.string(), z.unknown()),
  trial_list: z.array(z.object({ id: z.number().int().min(1), params: z.record(z.string(), z.unknown()) })),
});
export type SweepRecord = z.infer<typeof sweepRecordSchema>;

export function sweepRecord(sweep: Sweep): SweepRecord {
  const { spec } = sweep;
  return {
    name: spec.name,
    sweep_file: sweep.file,
    base: sweep.baseFile,
    method: spec.method,
    seed: spec.seed,
    metric: spec.metric,
    parameters: spec.parameters,
    trial_list: sweep.trials.map(({ id, params }) => ({ id, params })),
  };
}
