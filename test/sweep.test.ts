/**
 * dlt sweep on this machine (the local engine): the sweep file's checks, the trials it
 * expands to, the sweep directory it fills, and a coordinator stopped and resumed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expandTrials } from '../src/sweep/trials.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { expectExit, expectSameFinalTensors, metricsWithoutClock } from './support/resumeSupport.js';
import { BASE_CONFIG, GRID_SWEEP, sweepResults, sweepUntilEpoch, type TrialResult, withoutRunDirs } from './support/sweepSupport.js';

const tmp = tempDir('dlt-sweep-');
afterAll(() => tmp.cleanup());

tmp.write('base.yaml', BASE_CONFIG);
const GRID = GRID_SWEEP;
const RANDOM = `name: random
base: base.yaml
method: random
trials: 3
seed: 7
metric: {name: val_loss}
parameters:
  optimizer.lr: {min: 0.01, max: 0.3, scale: log}
  training.batch_size: {values: [16, 32]}
`;

type Result = TrialResult;

function sweep(file: string, ...extra: string[]) {
  const r = dlt(['sweep', file, '--out', path.join(tmp.dir, 'out'), '--backend', 'js', '--parallel', '2', ...extra], tmp.dir);
  return { ...r, dir: r.stdout.split('\n')[0]! };
}

const results = sweepResults;

/** The best value of `metric` over a run's epoch records, and its epoch, read independently of dlt's code. */
function bestOfRun(runDir: string, metric: 'val_accuracy' | 'val_loss', goal: 'maximize' | 'minimize'): { metric: number; epoch: number } {
  const epochs = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>)
    .filter((r) => (r.kind as unknown) === 'epoch');
  const better = (a: number, b: number) => (goal === 'maximize' ? a > b : a < b);
  let best = { metric: epochs[0]![metric]!, epoch: epochs[0]!.epoch! };
  for (const r of epochs) if (better(r[metric]!, best.metric)) best = { metric: r[metric]!, epoch: r.epoch! };
  return best;
}

describe('the trials of a sweep', () => {
  it('a grid is every combination, the last key varying fastest, numbered from 1', () => {
    const trials = expandTrials({
      method: 'grid',
      seed: 1,
      parameters: { a: { values: [1, 2] }, b: { values: ['x', 'y', 'z'] } },
    });
    expect(trials.map((t) => [t.id, t.params.a, t.params.b])).toEqual([
      [1, 1, 'x'],
      [2, 1, 'y'],
      [3, 1, 'z'],
      [4, 2, 'x'],
      [5, 2, 'y'],
      [6, 2, 'z'],
    ]);
  });

  it('random draws depend only on the seed, stay in their ranges, and cover a log range on its logs', () => {
    const spec = {
      method: 'random' as const,
      trials: 400,
      seed: 5,
      parameters: { lr: { min: 1e-4, max: 1, scale: 'log' as const }, w: { min: -1, max: 1, scale: 'linear' as const }, k: { values: [1, 2, 3] } },
    };
    const a = expandTrials(spec);
    expect(expandTrials(spec)).toEqual(a);
    expect(expandTrials({ ...spec, seed: 6 })).not.toEqual(a);
    const lrs = a.map((t) => t.params.lr as number);
    expect(Math.min(...lrs)).toBeGreaterThanOrEqual(1e-4);
    expect(Math.max(...lrs)).toBeLessThan(1);
    // Log-uniform: about a quarter of the draws in each decade of the four.
    const belowThousandth = lrs.filter((x) => x < 1e-3).length / lrs.length;
    expect(belowThousandth).toBeGreaterThan(0.17);
    expect(belowThousandth).toBeLessThan(0.33);
    const ws = a.map((t) => t.params.w as number);
    expect(Math.min(...ws)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...ws)).toBeLessThan(1);
    expect(new Set(a.map((t) => t.params.k))).toEqual(new Set([1, 2, 3]));
  });
});

describe('a grid sweep on this machine', () => {
  const file = tmp.write('grid.yaml', GRID);
  const run = sweep(file);

  it('prints the sweep directory first, runs every trial to its end, and exits 0', () => {
    expectExit(run, 0);
    expect(existsSync(path.join(run.dir, 'sweep.yaml'))).toBe(true);
    expect(readdirSync(path.join(run.dir, 'trials')).sort()).toEqual(['trial-0001', 'trial-0002', 'trial-0003', 'trial-0004']);
    expect(results(run.dir).map((r) => r.status)).toEqual(['finished', 'finished', 'finished', 'finished']);
  });

  it("records each trial's parameters in its own config, and its metric as its run's best epoch", () => {
    for (const r of results(run.dir)) {
      expect(r.run_dir).toBe(path.join(run.dir, 'trials', `trial-${String(r.id).padStart(4, '0')}`));
      const config = readFileSync(path.join(r.run_dir, 'config.yaml'), 'utf8');
      expect(config).toContain(`lr: ${r.params['optimizer.lr']}`);
      expect(config).toContain(`units: ${r.params['model.layers.0.units']}`);
      const summary = JSON.parse(readFileSync(path.join(r.run_dir, 'summary.json'), 'utf8')) as { best_val_accuracy: number };
      expect(r.metric).toBe(summary.best_val_accuracy);
      expect({ metric: r.metric, epoch: r.epoch }).toEqual(bestOfRun(r.run_dir, 'val_accuracy', 'maximize'));
    }
    expect(results(run.dir).map((r) => r.params)).toEqual([
      { 'optimizer.lr': 0.3, 'model.layers.0.units': 8 },
      { 'optimizer.lr': 0.3, 'model.layers.0.units': 16 },
      { 'optimizer.lr': 0.03, 'model.layers.0.units': 8 },
      { 'optimizer.lr': 0.03, 'model.layers.0.units': 16 },
    ]);
  });

  it('leaderboard.csv ranks the results best first, and the printed leaderboard ends the output', () => {
    const rows = readFileSync(path.join(run.dir, 'leaderboard.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('rank,trial,status,val_accuracy,epoch,optimizer.lr,model.layers.0.units,run_dir');
    const ranked = [...results(run.dir)].sort((a, b) => b.metric! - a.metric! || a.id - b.id);
    expect(rows.slice(1).map((row) => row.split(',').slice(1, 4))).toEqual(
      ranked.map((r) => [`trial-${String(r.id).padStart(4, '0')}`, 'finished', String(r.metric)]),
    );
    const printed = run.stdout.trimEnd().split('\n').slice(-5);
    expect(printed[0]).toMatch(/^#\s+trial\s+status\s+val_accuracy/);
    expect(printed[1]).toContain(`trial-${String(ranked[0]!.id).padStart(4, '0')}`);
  });

  it('dlt sweep status --json gives every trial and the best, which has the best metric', () => {
    const r = dlt(['sweep', 'status', run.dir, '--json'], tmp.dir);
    expectExit(r, 0);
    const status = JSON.parse(r.stdout) as { name: string; metric: string; goal: string; trials: Result[]; best: Result };
    expect([status.name, status.metric, status.goal]).toEqual(['grid', 'val_accuracy', 'maximize']);
    expect(status.trials.map((t) => t.id).sort()).toEqual([1, 2, 3, 4]);
    const best = Math.max(...results(run.dir).map((t) => t.metric!));
    expect(status.best.metric).toBe(best);
    expect(status.best.id).toBe(results(run.dir).find((t) => t.metric === best)!.id);
    expect(Object.keys(status.trials[0]!).sort()).toEqual(['id', 'metric', 'params', 'run_dir', 'status']);
  });

  it('a trial directory is an ordinary run: dlt eval reads it', () => {
    const r = dlt(['eval', path.join(run.dir, 'trials', 'trial-0001'), '--split', 'val', '--json'], tmp.dir);
    expectExit(r, 0);
    expect((JSON.parse(r.stdout) as { samples: number }).samples).toBe(45);
  });
});

describe('a random sweep', () => {
  it('gives the same trials and the same metrics, bit for bit, when run twice', () => {
    const file = tmp.write('random.yaml', RANDOM);
    const first = sweep(file);
    const second = sweep(file);
    expectExit(first, 0);
    expectExit(second, 0);
    const a = results(first.dir);
    const b = results(second.dir);
    expect(a).toHaveLength(3);
    expect(withoutRunDirs(b)).toEqual(withoutRunDirs(a));
    for (const r of a) {
      const lr = r.params['optimizer.lr'] as number;
      expect(lr).toBeGreaterThanOrEqual(0.01);
      expect(lr).toBeLessThan(0.3);
      expect({ metric: r.metric, epoch: r.epoch }).toEqual(bestOfRun(r.run_dir, 'val_loss', 'minimize'));
      expectSameFinalTensors(b.find((x) => x.id === r.id)!.run_dir, r.run_dir, `trial ${r.id}`);
    }
  });
});

describe('a trial that fails', () => {
  it('is recorded as failed with its reason; the others finish; the sweep exits 1', () => {
    const file = tmp.write(
      'diverge.yaml',
      `name: diverge
base: base.yaml
parameters:
  optimizer.lr: {values: [0.1, 1.0e+30]}
`,
    );
    const r = sweep(file);
    expectExit(r, 1);
    const [ok, bad] = results(r.dir);
    expect(ok!.status).toBe('finished');
    expect(bad!.status).toBe('failed');
    expect(bad!.metric).toBeNull();
    expect(bad!.error).toMatch(/NaN|Inf/);
    expect(r.stderr).toMatch(/1 of 2 trials failed/);
  });
});

describe('a coordinator stopped and resumed', () => {
  it('with --resume keeps finished trials, resumes the interrupted one, runs the rest: the same result as one run', async () => {
    const sweepText = GRID.replace('name: grid', 'name: stop').replace('parameters:', 'parameters:\n  training.epochs: {values: [300]}');
    const file = tmp.write('stop.yaml', sweepText);
    const reference = sweep(file, '--parallel', '1');
    expectExit(reference, 0);

    const out = path.join(tmp.dir, 'out-stopped');
    // Stop it in the middle of trial 2's training, once it has logged 20 epochs.
    const started = await sweepUntilEpoch(['sweep', file, '--out', out, '--backend', 'js', '--parallel', '1'], tmp.dir, 2, 20);
    started.child.kill('SIGINT');
    const stopped = await started.done;
    expect(stopped.code).toBe(130);
    const dir = stopped.stdout.split('\n')[0]!;
    expect(stopped.stderr).toContain(`--resume ${dir}`);
    expect(results(dir).map((r) => r.id)).toEqual([1]);
    expect(existsSync(path.join(dir, 'trials', 'trial-0002', 'snapshots', 'latest.safetensors')), 'trial 2 snapshotted').toBe(true);
    expect(existsSync(path.join(dir, 'trials', 'trial-0002', 'summary.json')), 'trial 2 not finished').toBe(false);

    const resumed = dlt(['sweep', file, '--resume', dir, '--backend', 'js', '--parallel', '1'], tmp.dir);
    expectExit(resumed, 0);
    expect(resumed.stdout.split('\n')[0]).toBe(dir);
    const got = results(dir);
    const want = results(reference.dir);
    expect(withoutRunDirs(got)).toEqual(withoutRunDirs(want));
    for (const r of want) {
      const other = got.find((g) => g.id === r.id)!.run_dir;
      expectSameFinalTensors(other, r.run_dir, `trial ${r.id}`);
      expect(metricsWithoutClock(other), `trial ${r.id}: metrics.jsonl`).toEqual(metricsWithoutClock(r.run_dir));
    }
  });

  it('--resume refuses a sweep file whose trials changed, naming what differs', () => {
    const file = tmp.write('grid2.yaml', GRID);
    const first = sweep(file);
    expectExit(first, 0);
    tmp.write('grid2.yaml', GRID.replace('[0.3, 0.03]', '[0.3, 0.01]'));
    const message = expectInputError(dlt(['sweep', file, '--resume', first.dir], tmp.dir));
    expect(message).toContain('parameters differs from the sweep recorded');
  });
});

describe('one process per trial (dlt sweep --create-only, dlt sweep trial)', () => {
  it('trials run one by one give the results of a sweep run at once, and --resume collects them', () => {
    const file = tmp.write('perTrial.yaml', GRID);
    const reference = sweep(file);
    expectExit(reference, 0);
    const created = sweep(file, '--create-only');
    expectExit(created, 0);
    expect(readdirSync(path.join(created.dir, 'trials'))).toEqual([]);
    expect(results(created.dir)).toEqual([]);
    for (const n of ['1', '2', '3', '4']) expectExit(dlt(['sweep', 'trial', created.dir, n, '--backend', 'js'], tmp.dir), 0);
    const summary = JSON.parse(readFileSync(path.join(created.dir, 'trials', 'trial-0001', 'summary.json'), 'utf8')) as { backend: string };
    expect(summary.backend, '--backend after sweep trial is taken').toBe('js');
    // A trial run again only reads its outcome.
    const again = dlt(['sweep', 'trial', created.dir, '2', '--backend', 'js'], tmp.dir);
    expectExit(again, 0);
    expect(again.stdout).toMatch(/^trial-0002 finished: /m);
    const collected = dlt(['sweep', file, '--resume', created.dir, '--backend', 'js'], tmp.dir);
    expectExit(collected, 0);
    expect(withoutRunDirs(results(created.dir))).toEqual(withoutRunDirs(results(reference.dir)));
    expect(expectInputError(dlt(['sweep', 'trial', created.dir, '5'], tmp.dir))).toContain('the sweep has no trial 5; its trials are 1 to 4');
  });
});

describe('bad sweep files: exit 2, with positions, before anything is created', () => {
  const out = path.join(tmp.dir, 'out-bad');
  const bad = (name: string, text: string) => {
    const file = tmp.write(name, text);
    const message = expectInputError(dlt(['sweep', file, '--out', out], tmp.dir));
    expect(existsSync(out), 'nothing created').toBe(false);
    return { file, message };
  };

  it('a misspelt key gets did-you-mean at its line and column', () => {
    const { file, message } = bad('typo.yaml', GRID.replace('parameters:', 'paramters:'));
    expect(message).toContain(`${file}:5:1: paramters: unknown key "paramters"; did you mean "parameters"?`);
  });

  it('a swept key that is not in the base config is named, with a did-you-mean', () => {
    const { file, message } = bad('nokey.yaml', GRID.replace('optimizer.lr:', 'optimizer.lrr:'));
    expect(message).toContain(`${file}:6:3:`);
    expect(message).toContain('optimizer.lrr is not in the base config');
    expect(message).toContain('did you mean "lr"?');
  });

  it('a combination that is not a valid config fails before the first trial, naming the trial and the key', () => {
    const { message } = bad('negative.yaml', GRID.replace('[0.3, 0.03]', '[0.3, -1]'));
    expect(message).toContain('trial-0003 (optimizer.lr=-1, model.layers.0.units=8) is not a valid config');
    expect(message).toMatch(/optimizer\.lr: must be > 0/);
  });

  it('test_accuracy never ranks trials; a range needs method: random; random needs trials', () => {
    expect(bad('test.yaml', GRID.replace('name: val_accuracy', 'name: test_accuracy')).message).toContain('test_accuracy never chooses a trial');
    expect(bad('range.yaml', GRID.replace('{values: [0.3, 0.03]}', '{min: 0.01, max: 0.3}')).message).toContain(
      'a range (min, max) needs method: random',
    );
    expect(bad('count.yaml', GRID.replace('method: grid', 'method: random')).message).toContain('method: random needs trials');
  });

  it('a missing base config is named', () => {
    expect(bad('nobase.yaml', GRID.replace('base: base.yaml', 'base: nope.yaml')).message).toContain('nope.yaml: config file not found');
  });

  it('status of a folder that is not a sweep directory: exit 2', () => {
    expect(expectInputError(dlt(['sweep', 'status', tmp.dir], tmp.dir))).toContain('not a sweep directory');
  });
});
