/** Helpers for the sweep tests: a small base config and reading a sweep directory's results. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Spawned, spawnDlt, waitFor } from './resumeSupport.js';

/** Three spiral arms, 180 points, a tiny MLP: a trial of a few hundred milliseconds. */
export const BASE_CONFIG = `name: spiral-small
seed: 3
data:
  train: {format: spiral, classes: 3, points_per_class: 60, noise: 0.2}
  validation: {fraction: 0.25}
model:
  input: [2]
  layers:
    - {type: dense, units: 16}
    - relu
    - {type: dense, units: 3, init: xavier}
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
training: {epochs: 8, batch_size: 16}
`;

/** A grid of 4 trials over base.yaml, ranked by validation accuracy. */
export const GRID_SWEEP = `name: grid
base: base.yaml
method: grid
metric: {name: val_accuracy, goal: maximize}
parameters:
  optimizer.lr: {values: [0.3, 0.03]}
  model.layers.0.units: {values: [8, 16]}
`;

/** A line of results.jsonl. */
export interface TrialResult {
  id: number;
  status: string;
  params: Record<string, unknown>;
  metric: number | null;
  epoch: number | null;
  run_dir: string;
  error?: string;
}

/** results.jsonl of a sweep directory, by trial id; empty when there is none yet. */
export function sweepResults(dir: string): TrialResult[] {
  const file = path.join(dir, 'results.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TrialResult)
    .sort((a, b) => a.id - b.id);
}

/** The results without where they were written, to compare two sweeps. */
export function withoutRunDirs(results: readonly TrialResult[]): Omit<TrialResult, 'run_dir'>[] {
  return results.map(({ run_dir: _, ...r }) => r);
}

/** How many epoch records a run has logged so far. */
export function epochsLogged(runDir: string): number {
  const file = path.join(runDir, 'metrics.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('"kind":"epoch"').length - 1 : 0;
}

/**
 * Start `dlt sweep ...` without waiting, and wait until trial `trial` has logged `epochs`
 * epochs: the moment the fault tests strike. `stdout()` is what it printed so far.
 */
export async function sweepUntilEpoch(
  args: string[],
  cwd: string,
  trial: number,
  epochs: number,
): Promise<Spawned & { stdout: () => string; dir: () => string }> {
  const started = spawnDlt(args, cwd);
  let stdout = '';
  started.child.stdout!.on('data', (s: Buffer) => (stdout += s.toString()));
  const dir = () => stdout.split('\n')[0]!;
  const trialDir = () => path.join(dir(), 'trials', `trial-${String(trial).padStart(4, '0')}`);
  await waitFor(() => stdout.includes('\n') && epochsLogged(trialDir()) >= epochs, 120_000, `trial ${trial}'s epoch ${epochs}`);
  return { ...started, stdout: () => stdout, dir };
}
