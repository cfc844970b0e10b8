/**
 * `dlt inspect <snapshot | run-dir>`: layers, shapes and parameter counts checked
 * against the architecture the config describes (counted here from the layer sizes),
 * the training state against the run's summary.json and metrics.jsonl, and damaged
 * snapshots as bad input (exit 2).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import { expectExit, trainRun } from './support/resumeSupport.js';

const tmp = tempDir('dlt-inspect-');
afterAll(() => tmp.cleanup());

// 90 spiral points, 20% held out: 72 training samples, batch 16 → 5 steps per epoch.
const INPUT = 2;
const HIDDEN = 6;
const CLASSES = 3;
const STEPS_PER_EPOCH = 5;
const EPOCHS = 3;
const config = tmp.write(
  'tiny.yaml',
  `name: tiny
seed: 3
data:
  train: {format: spiral, classes: ${CLASSES}, points_per_class: 30}
  validation: {fraction: 0.2}
model:
  input: [${INPUT}]
  layers:
    - {type: dense, units: ${HIDDEN}, init: xavier}
    - tanh
    - {type: dense, units: ${CLASSES}}
optimizer: {type: adam, lr: 0.01}
schedule: {type: step, every: 1, factor: 0.5}
training: {epochs: ${EPOCHS}, batch_size: 16, log_every: 2}
`,
);

// dense: weight [out, in] and bias [out] (SPEC §5)
const DENSE_1 = HIDDEN * INPUT + HIDDEN;
const DENSE_2 = CLASSES * HIDDEN + CLASSES;
const TOTAL = DENSE_1 + DENSE_2;

let outs = 0;
function train(env: Record<string, string> = {}) {
  return trainRun(config, path.join(tmp.dir, `out-${++outs}`), tmp.dir, env);
}

// biome-ignore lint/suspicious/noExplicitAny: the JSON dlt prints, read field by field by the assertions
type Json = Record<string, any>;

function inspectJson(target: string): Json {
  const r = dlt(['inspect', target, '--json'], tmp.dir);
  expectExit(r, 0);
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout);
}

/** The finished run, trained by the first test that needs it (so -t filters work). */
let finished: { runDir: string; summary: Json; records: Json[] } | undefined;
function finishedRun() {
  if (!finished) {
    const run = train();
    expectExit(run, 0);
    const summary = JSON.parse(readFileSync(path.join(run.runDir, 'summary.json'), 'utf8'));
    const records = readFileSync(path.join(run.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    finished = { runDir: run.runDir, summary, records };
  }
  return { ...finished, epochs: finished.records.filter((m) => m.kind === 'epoch') };
}

describe('dlt inspect on a finished run', () => {
  it('reads the run directory’s latest snapshot and prints one JSON object with snake_case keys', () => {
    const { runDir } = finishedRun();
    const j = inspectJson(runDir);
    expect(j.snapshot).toBe(path.join(runDir, 'snapshots', 'latest.safetensors'));
    expect(Object.keys(j).sort()).toEqual(
      ['classes', 'dtype', 'format_version', 'input_shape', 'layers', 'name', 'optimizer', 'snapshot', 'total_params', 'training'].sort(),
    );
    expect(Object.keys(j.training).sort()).toEqual(
      ['backend', 'batch', 'best_val_accuracy', 'dlt_version', 'epoch', 'lr', 'lr_scale', 'rollbacks', 'step', 'threads', 'train_seconds'].sort(),
    );
    expect(j).toMatchObject({ name: 'tiny', dtype: 'float32', input_shape: [INPUT], format_version: 2, classes: null });
  });

  it('lists the layers with their output shapes, parameter tensors and counts', () => {
    const { runDir } = finishedRun();
    const j = inspectJson(runDir);
    expect(j.layers).toEqual([
      {
        name: 'dense_1',
        type: 'dense',
        output_shape: [HIDDEN],
        params: [
          { name: 'weight', shape: [HIDDEN, INPUT], dtype: 'F32', count: HIDDEN * INPUT },
          { name: 'bias', shape: [HIDDEN], dtype: 'F32', count: HIDDEN },
        ],
        param_count: DENSE_1,
      },
      { name: 'tanh_1', type: 'tanh', output_shape: [HIDDEN], params: [], param_count: 0 },
      {
        name: 'dense_2',
        type: 'dense',
        output_shape: [CLASSES],
        params: [
          { name: 'weight', shape: [CLASSES, HIDDEN], dtype: 'F32', count: CLASSES * HIDDEN },
          { name: 'bias', shape: [CLASSES], dtype: 'F32', count: CLASSES },
        ],
        param_count: DENSE_2,
      },
    ]);
    expect(j.total_params).toBe(TOTAL);
  });

  it("shows Adam's two slots over every parameter and its step count", () => {
    const { runDir } = finishedRun();
    const j = inspectJson(runDir);
    expect(j.optimizer.type).toBe('adam');
    expect([...j.optimizer.slots].sort()).toEqual(['m', 'v']);
    expect(j.optimizer.slot_entries).toBe(2 * TOTAL);
    expect(j.optimizer.state).toEqual({ steps: EPOCHS * STEPS_PER_EPOCH });
  });

  it('reports the training state as summary.json and metrics.jsonl have it', () => {
    const { runDir, summary, records, epochs } = finishedRun();
    const t = inspectJson(runDir).training;
    expect(t.epoch).toBe(summary.epochs);
    expect(t.step).toBe(summary.steps);
    expect(t.step).toBe(EPOCHS * STEPS_PER_EPOCH);
    expect(t.batch).toBe(0);
    // the step schedule halves the lr after every epoch
    expect(t.lr).toBe(summary.final_lr);
    expect(t.lr).toBe(0.01 * 0.5 ** EPOCHS);
    expect(t.lr).toBe(records.filter((m) => m.kind === 'lr_drop').at(-1)!.to);
    expect(t.lr_scale).toBe(1);
    expect(t.best_val_accuracy).toBe(summary.best_val_accuracy);
    expect(t.best_val_accuracy).toBe(Math.max(...epochs.map((e) => e.val_accuracy)));
    expect(t.rollbacks).toBe(0);
    expect(t.backend).toBe(summary.backend);
    expect(t.threads).toBe(summary.threads);
    expect(t.dlt_version).toBe(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
    expect(t.train_seconds).toBeGreaterThan(0);
  });

  it('reads a snapshot file given directly: best.safetensors holds the epoch of the best accuracy', () => {
    const { runDir, summary, epochs } = finishedRun();
    const j = inspectJson(path.join(runDir, 'best.safetensors'));
    const best = epochs.find((e) => e.val_accuracy === summary.best_val_accuracy)!;
    expect(j.snapshot).toBe(path.join(runDir, 'best.safetensors'));
    expect(j.training.epoch).toBe(best.epoch);
    expect(j.training.step).toBe(best.step);
    expect(j.total_params).toBe(TOTAL);
  });

  it('prints a table with the same facts', () => {
    const { runDir, summary } = finishedRun();
    const r = dlt(['inspect', runDir], tmp.dir);
    expectExit(r, 0);
    expect(r.stdout).toContain(path.join(runDir, 'snapshots', 'latest.safetensors'));
    expect(r.stdout).toMatch(
      new RegExp(`^dense_1 +dense +\\[${HIDDEN}\\] +weight \\[${HIDDEN}, ${INPUT}\\], bias \\[${HIDDEN}\\] +${DENSE_1}$`, 'm'),
    );
    expect(r.stdout).toMatch(new RegExp(`^tanh_1 +tanh +\\[${HIDDEN}\\] +0$`, 'm'));
    expect(r.stdout).toMatch(
      new RegExp(`^dense_2 +dense +\\[${CLASSES}\\] +weight \\[${CLASSES}, ${HIDDEN}\\], bias \\[${CLASSES}\\] +${DENSE_2}$`, 'm'),
    );
    expect(r.stdout).toMatch(new RegExp(`^total +${TOTAL}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^optimizer +adam; slots: m, v \\(${2 * TOTAL} entries\\); steps ${EPOCHS * STEPS_PER_EPOCH}$`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^epoch +${EPOCHS} done, at an epoch boundary$`, 'm'));
    expect(r.stdout).toMatch(/^lr +0\.00125$/m);
    expect(r.stdout).toMatch(new RegExp(`^best val +accuracy ${summary.best_val_accuracy.toFixed(4)}$`, 'm'));
  });
});

describe('dlt inspect on an interrupted run', () => {
  it('shows the position inside the epoch', () => {
    const k = STEPS_PER_EPOCH + 2;
    const run = train({ DLT_INTERRUPT_AT_STEP: String(k) });
    expectExit(run, 130);
    const j = inspectJson(run.runDir);
    expect(j.training).toMatchObject({ epoch: 1, batch: 2, step: k, lr: 0.005 });
    expect(j.optimizer.state).toEqual({ steps: k });
    const table = dlt(['inspect', run.runDir], tmp.dir);
    expectExit(table, 0);
    expect(table.stdout).toMatch(/^epoch +1 done, 2 batches into epoch 2$/m);
  });
});

describe('dlt inspect on a run whose labels were names', () => {
  it('lists the class names in the order of the class indices', () => {
    const csv = tmp.write('animals.csv', 'a,b,species\n1,2,dog\n2,1,cat\n1.5,2.5,dog\n3,1,cat\n0.5,2,emu\n2.5,0.5,cat\n');
    const file = tmp.write(
      'animals.yaml',
      `name: animals
data:
  train: {format: csv, path: ${path.basename(csv)}, label_column: species, header: true}
model:
  input: [2]
  layers: [{type: dense, units: 3}]
optimizer: {type: sgd, lr: 0.1}
training: {epochs: 1, batch_size: 4}
`,
    );
    const run = trainRun(file, path.join(tmp.dir, 'animals-out'), tmp.dir);
    expectExit(run, 0);
    const j = inspectJson(run.runDir);
    expect(j.classes).toEqual(['cat', 'dog', 'emu']);
    // plain SGD keeps no slots
    expect(j.optimizer).toMatchObject({ type: 'sgd', slots: [], slot_entries: 0 });
    const table = dlt(['inspect', run.runDir], tmp.dir);
    expectExit(table, 0);
    expect(table.stdout).toMatch(/^classes +0 cat, 1 dog, 2 emu$/m);
    expect(table.stdout).toMatch(/^optimizer +sgd; slots: none; steps 2$/m);
  });
});

describe('dlt inspect on bad input', () => {
  const latest = () => path.join(finishedRun().runDir, 'snapshots', 'latest.safetensors');

  it('a snapshot with a flipped byte in its tensor data: exit 2, naming the file', () => {
    const bad = path.join(tmp.dir, 'flipped.safetensors');
    const bytes = readFileSync(latest());
    bytes[bytes.length - 3]! ^= 0x40;
    writeFileSync(bad, bytes);
    const msg = expectInputError(dlt(['inspect', bad], tmp.dir));
    expect(msg).toContain(bad);
    expect(msg).toMatch(/checksum|sha256/i);
  });

  it('a truncated snapshot: exit 2', () => {
    const bad = path.join(tmp.dir, 'truncated.safetensors');
    writeFileSync(bad, readFileSync(latest()).subarray(0, 100));
    expect(expectInputError(dlt(['inspect', bad, '--json'], tmp.dir))).toContain(bad);
  });

  it('a file that is not a snapshot, a missing path and a folder that is not a run: exit 2', () => {
    const notSnapshot = tmp.write('config-copy.safetensors', readFileSync(config));
    expect(expectInputError(dlt(['inspect', notSnapshot], tmp.dir))).toContain(notSnapshot);
    expect(expectInputError(dlt(['inspect', path.join(tmp.dir, 'nowhere')], tmp.dir))).toMatch(/no such run directory or snapshot file/);
    expect(expectInputError(dlt(['inspect', tmp.dir], tmp.dir))).toMatch(/not a run directory/);
  });

  it('a run directory without latest falls back to best', () => {
    const { dir, cleanup } = tempDir('dlt-inspect-best-');
    try {
      copyFileSync(path.join(finishedRun().runDir, 'best.safetensors'), path.join(dir, 'best.safetensors'));
      expect(inspectJson(dir).snapshot).toBe(path.join(dir, 'best.safetensors'));
    } finally {
      cleanup();
    }
  });
});
