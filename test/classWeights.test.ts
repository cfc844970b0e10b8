/**
 * Class weights (`loss.class_weights`): the `balanced` rule, its resolution from the
 * training split into the run's config, the weighted loss over a split, and the CLI —
 * training on an imbalanced set, exact resume, dlt gradcheck, and bad input.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { loadSplits, type Split } from '../src/data/load.js';
import { Preprocessor } from '../src/data/preprocessor.js';
import { InputError } from '../src/errors.js';
import { balancedClassWeights, withBalancedClassWeights } from '../src/losses/classWeights.js';
import { MulticlassHinge } from '../src/losses/multiclassHinge.js';
import { SoftmaxCrossEntropy } from '../src/losses/softmaxCrossEntropy.js';
import { Network } from '../src/model/network.js';
import { readSafetensors } from '../src/snapshot/safetensors.js';
import { evaluate } from '../src/train/evaluate.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { expectExit, expectSameRun, seededRandom, trainRun } from './support/resumeSupport.js';

const tmp = tempDir('dlt-class-weights-');
afterAll(() => tmp.cleanup());

describe('balancedClassWeights', () => {
  it('gives class c the weight N / (C·n_c) over the samples the indices pick', () => {
    // labels of the whole set; the training split is indices 0–5: labels [0, 0, 0, 1, 2, 2]
    // N = 6, C = 3, n = [3, 1, 2] → [6/9, 6/3, 6/6] = [2/3, 2, 1]
    const labels = [0, 0, 0, 1, 2, 2, 1, 1, 1];
    expect(balancedClassWeights(labels, [0, 1, 2, 3, 4, 5], 3)).toEqual([6 / 9, 2, 1]);
    // scikit-learn's example: y = [1, 1, 1, 1, 0, 0] → 6/(2·2) = 1.5, 6/(2·4) = 0.75
    expect(balancedClassWeights([1, 1, 1, 1, 0, 0], [0, 1, 2, 3, 4, 5], 2)).toEqual([1.5, 0.75]);
  });

  it('makes every class carry the same total weight, N/C, and the mean weight over the samples 1', () => {
    const labels = Array.from({ length: 100 }, (_, i): number => (i < 70 ? 0 : i < 95 ? 1 : 2));
    const indices = labels.map((_, i) => i);
    const w = balancedClassWeights(labels, indices, 3);
    for (const [c, n] of [70, 25, 5].entries()) expect(w[c]! * n).toBeCloseTo(100 / 3, 12);
    expect(labels.reduce((s, y) => s + w[y]!, 0) / labels.length).toBeCloseTo(1, 12);
  });

  it('refuses a class without a training sample (n_c = 0), naming it', () => {
    const missing = () => balancedClassWeights([0, 2, 2], [0, 1, 2], 3, ['cat', 'dog', 'owl']);
    expect(missing).toThrow(InputError);
    expect(missing).toThrow(/loss\.class_weights: balanced .* class 1 \("dog"\) has no sample in the training split/);
  });
});

describe('withBalancedClassWeights', () => {
  const base = loadConfig(
    tmp.write(
      'base.yaml',
      `data: {train: {format: spiral, classes: 3}}
model: {input: [2], layers: [{type: dense, units: 3}]}
optimizer: {type: sgd, lr: 0.1}
`,
    ),
  );
  const train = { data: { labels: Int32Array.from([0, 1, 1, 2]) }, indices: [0, 1, 2, 3] };

  it('replaces balanced by the list and leaves everything else as it was', () => {
    const config: Config = { ...base, loss: { type: 'multiclass_hinge', margin: 1, class_weights: 'balanced' } };
    const resolved = withBalancedClassWeights(config, train, 3);
    // N = 4, C = 3, n = [1, 2, 1] → [4/3, 2/3, 4/3]
    expect(resolved.loss).toEqual({ type: 'multiclass_hinge', margin: 1, class_weights: [4 / 3, 2 / 3, 4 / 3] });
    expect({ ...resolved, loss: config.loss }).toEqual(config);
    expect(config.loss).toEqual({ type: 'multiclass_hinge', margin: 1, class_weights: 'balanced' });
  });

  it('returns a config without balanced weights unchanged', () => {
    const listed: Config = { ...base, loss: { type: 'softmax_cross_entropy', class_weights: [1, 2, 3] } };
    expect(withBalancedClassWeights(listed, train, 3)).toBe(listed);
    expect(withBalancedClassWeights(base, train, 3)).toBe(base);
  });
});

describe('evaluate with class weights', () => {
  // An identity network: the five samples' features are their scores.
  const scores = [0.2, -1, 0.5, 2, 0.1, -0.3, 1, 1, 1, -2, 0.4, 0.3, 0.9, -0.1, 0.2];
  const split: Split = {
    name: 'val',
    data: { x: Float64Array.from(scores), labels: Int32Array.from([0, 1, 2, 0, 2]), count: 5, sampleShape: [3], source: 'test' },
    indices: Uint32Array.from([0, 1, 2, 3, 4]),
  };
  const network = new Network({ prebuilt: [] }, [3], { dtype: 'float64' });
  const prep = Preprocessor.fit({}, split);

  it("weighs each batch by its W, so a split's loss is Σ w·ℓ / Σ w over all its samples, whatever the batch size", () => {
    for (const make of [
      () => new SoftmaxCrossEntropy(3, 'float64', Float64Array.from([1, 4, 0.5])),
      () => new MulticlassHinge(3, 'float64', 1, Float64Array.from([1, 4, 0.5])),
    ]) {
      const whole = make().forward(Float64Array.from(scores), split.data.labels, 5);
      for (const batch of [1, 2, 5]) expect(evaluate(network, make(), prep, split, batch).loss, `batch ${batch}`).toBeCloseTo(whole, 14);
    }
  });

  it('counts every sample once in the accuracy', () => {
    const weighted = evaluate(network, new SoftmaxCrossEntropy(3, 'float64', Float64Array.from([1, 4, 0.5])), prep, split, 2);
    const plain = evaluate(network, new SoftmaxCrossEntropy(3, 'float64'), prep, split, 2);
    expect(weighted.accuracy).toBe(plain.accuracy);
    expect(weighted.perClassAccuracy).toEqual(plain.perClassAccuracy);
  });
});

// ---------------------------------------------------------------- the CLI

/**
 * Two overlapping Gaussian blobs in 2-D, 9:1: class 0 around (0, 0), class 1 around
 * (1.5, 1.5), unit variance. Unweighted, the best the loss can do is to favour class 0;
 * balanced weights move the boundary towards it and recover more of class 1.
 */
function imbalancedCsv(name: string, seed: number, majority: number, minority: number): string {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const rows = ['x1,x2,label'];
  for (let i = 0; i < majority + minority; i++) {
    const y = i < majority ? 0 : 1;
    const centre = y === 0 ? 0 : 1.5;
    rows.push(`${(centre + gaussian()).toFixed(5)},${(centre + gaussian()).toFixed(5)},${y}`);
  }
  return tmp.write(name, `${rows.join('\n')}\n`);
}

const trainCsv = imbalancedCsv('imbalanced-train.csv', 1, 450, 50);
const testCsv = imbalancedCsv('imbalanced-test.csv', 2, 180, 20);

function config(name: string, loss: string, extra = ''): string {
  return tmp.write(
    `${name}.yaml`,
    `name: ${name}
seed: 3
data:
  train: {format: csv, path: ${trainCsv}, label_column: label}
  test: {format: csv, path: ${testCsv}, label_column: label}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers: [{type: dense, units: 8}, tanh, {type: dense, units: 2}]
loss: ${loss}
optimizer: {type: adam, lr: 0.02}
training: {epochs: 6, batch_size: 32, log_every: 5}
${extra}`,
  );
}

let outs = 0;
const out = () => path.join(tmp.dir, `out-${++outs}`);

function evalJson(runDir: string): { loss: number; accuracy: number; per_class_accuracy: number[] } {
  const r = dlt(['eval', runDir, '--json'], tmp.dir);
  expectExit(r, 0);
  return JSON.parse(r.stdout);
}

describe('training with class weights', () => {
  const balanced = config('balanced', '{type: softmax_cross_entropy, class_weights: balanced}');
  let balancedRun: string | undefined;
  /** The uninterrupted balanced run, trained by the first test that needs it. */
  const reference = (): string => {
    if (balancedRun === undefined) {
      const r = trainRun(balanced, out(), tmp.dir);
      expectExit(r, 0);
      balancedRun = r.runDir;
    }
    return balancedRun;
  };

  it('records the balanced weights of the training split (after the validation hold-out) in config.yaml and the snapshots', () => {
    const runDir = reference();
    const written = parseYaml(readFileSync(path.join(runDir, 'config.yaml'), 'utf8'));
    // The same training split dlt holds out, from the same config and seed.
    const splits = loadSplits(loadConfig(balanced));
    const expected = balancedClassWeights(splits.train.data.labels, splits.train.indices, 2);
    expect(splits.train.indices.length).toBe(400);
    expect(written.loss).toEqual({ type: 'softmax_cross_entropy', class_weights: expected });
    // Not the whole file's weights: 500/(2·450) and 500/(2·50) would be [0.5556, 5].
    expect(expected).not.toEqual([500 / 900, 5]);
    const snapshot = readSafetensors(path.join(runDir, 'snapshots', 'latest.safetensors'));
    expect(JSON.parse(snapshot.metadata.get('config')!).loss.class_weights).toEqual(expected);
  });

  it('raise the minority class recall on a 9:1 set compared with no weights, same seed', () => {
    const plain = trainRun(config('plain', 'softmax_cross_entropy'), out(), tmp.dir);
    expectExit(plain, 0);
    const without = evalJson(plain.runDir);
    const withWeights = evalJson(reference());
    console.log(`minority recall: ${without.per_class_accuracy[1]} without weights, ${withWeights.per_class_accuracy[1]} balanced`);
    expect(withWeights.per_class_accuracy[1]!).toBeGreaterThan(without.per_class_accuracy[1]! + 0.2);
    // Balanced accuracy (the mean of the recalls) improves too.
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(withWeights.per_class_accuracy)).toBeGreaterThan(mean(without.per_class_accuracy));
  });

  it('interrupted and resumed, a weighted run ends bit for bit where the uninterrupted one ends', () => {
    const r = trainRun(balanced, out(), tmp.dir, { DLT_INTERRUPT_AT_STEP: '17' });
    expectExit(r, 130);
    const resumed = dlt(['resume', r.runDir], tmp.dir);
    expectExit(resumed, 0);
    expectSameRun(r.runDir, reference());
  });

  it('a list of weights trains the hinge too, and val_loss is the weighted loss', () => {
    const r = trainRun(config('hinge', '{type: multiclass_hinge, class_weights: [1, 9]}'), out(), tmp.dir);
    expectExit(r, 0);
    expect(parseYaml(readFileSync(path.join(r.runDir, 'config.yaml'), 'utf8')).loss).toEqual({
      type: 'multiclass_hinge',
      margin: 1,
      class_weights: [1, 9],
    });
    const val = dlt(['eval', r.runDir, '--split', 'val', '--json'], tmp.dir);
    expectExit(val, 0);
    const epochs = readFileSync(path.join(r.runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((m) => m.kind === 'epoch');
    // best.safetensors is the epoch of the best val_accuracy: its val_loss is dlt eval's on the val split.
    const best = epochs.reduce((a, b) => (b.val_accuracy > a.val_accuracy ? b : a));
    expect(JSON.parse(val.stdout).loss).toBeCloseTo(best.val_loss, 6);
  });
});

describe('dlt gradcheck with class weights', () => {
  const modelFile = (loss: string) => `model:\n  input: [3]\n  layers: [{type: dense, units: 5}, tanh, {type: dense, units: 3}]\nloss: ${loss}\n`;

  for (const loss of ['{type: softmax_cross_entropy, class_weights: [0.5, 3, 1]}', '{type: multiclass_hinge, class_weights: [2, 0, 0.25]}']) {
    it(`passes on ${loss}`, () => {
      const r = dlt(['gradcheck', tmp.write('weighted-model.yaml', modelFile(loss)), '--batch', '6'], tmp.dir);
      expect(r.stderr).toBe('');
      expect(r.code, r.stdout).toBe(0);
      expect(r.stdout).toContain('passed: all');
    });
  }

  it('checks balanced weights, which need training data, with weight 1 for every class, and says so', () => {
    const r = dlt(['gradcheck', tmp.write('balanced-model.yaml', modelFile('{type: softmax_cross_entropy, class_weights: balanced}'))], tmp.dir);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('loss.class_weights: balanced is computed from the training data');
    expect(r.stdout).toContain('checked with weight 1 for every class');
  });

  it('refuses a list of the wrong length, naming the file and the key', () => {
    const file = tmp.write('short-model.yaml', modelFile('{type: softmax_cross_entropy, class_weights: [1, 2]}'));
    const err = expectInputError(dlt(['gradcheck', file], tmp.dir));
    expect(err).toContain(file);
    expect(err).toContain('loss.class_weights lists 2 weights but the last layer has 3 outputs');
  });
});

describe('bad class weights', () => {
  const train = (loss: string) => dlt(['train', config('bad', loss), '--out', out()], tmp.dir);

  it('a list of the wrong length: exit 2 naming loss.class_weights, before anything is written', () => {
    const folder = out();
    const err = expectInputError(dlt(['train', config('bad', '{type: softmax_cross_entropy, class_weights: [1, 2, 3]}'), '--out', folder], tmp.dir));
    expect(err).toContain('loss.class_weights lists 3 weights but the last layer has 2 outputs; give one weight per class (2)');
    expect(existsSync(folder) ? readdirSync(folder) : []).toEqual([]);
  });

  it('a negative weight: exit 2 at its line and column', () => {
    const err = expectInputError(train('{type: multiclass_hinge, class_weights: [1, -0.5]}'));
    expect(err).toMatch(/bad\.yaml:10:\d+: loss\.class_weights\.1: a class weight must be ≥ 0, got -0\.5/);
  });

  it('all weights 0: exit 2 naming the key', () => {
    const err = expectInputError(train('{type: softmax_cross_entropy, class_weights: [0, 0]}'));
    expect(err).toMatch(/bad\.yaml:10:\d+: loss\.class_weights: needs some class with a weight > 0/);
  });

  it('class weights on a regression loss: unknown key', () => {
    const err = expectInputError(train('{type: squared, class_weights: [1, 2]}'));
    expect(err).toMatch(/bad\.yaml:10:\d+: loss\.class_weights: unknown key "class_weights"/);
  });

  it('a misspelt class_weight: did you mean class_weights?', () => {
    const err = expectInputError(train('{type: softmax_cross_entropy, class_weight: balanced}'));
    expect(err).toContain('loss.class_weight: unknown key "class_weight"; did you mean "class_weights"?');
  });

  it('balanced with a class that has no training sample: exit 2 naming the class', () => {
    const err = expectInputError(
      dlt(
        ['train', config('bad', '{type: softmax_cross_entropy, class_weights: balanced}'), '--out', out(), '--set', 'model.layers.2.units=3'],
        tmp.dir,
      ),
    );
    expect(err).toContain('class 2 has no sample in the training split');
  });
});
