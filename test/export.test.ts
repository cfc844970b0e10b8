/**
 * dlt export, checked by the programs users open its files with: onnx's checker
 * (full_check) and onnxruntime, from Python and from Node (onnxruntime-node), for the
 * ONNX file; PyTorch 2.x for the generated module. Each must give dlt's own logits for
 * the shipped test images: within 1e-4 (ONNX, float32 throughout) and 1e-5 (PyTorch),
 * with the same class everywhere. The models: the shipped MLP, LeNet and fashion-cnn
 * configs trained for one epoch, and a model with every layer type dlt has.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readTargetSnapshot } from '../src/cli/snapshotTarget.js';
import { loadTrainedModel } from '../src/model/trainedModel.js';
import { jsKernels } from '../src/tensor/kernels.js';
import { allocate } from '../src/tensor/types.js';
import { dlt, expectInputError, repoRoot, tempDir } from './support/cli.js';
import { pythonWith } from './support/pythonEnv.js';

const tmp = tempDir('dlt-export-');
afterAll(() => tmp.cleanup());

const MINI = path.join(repoRoot, 'datasets', 'fashion-mnist-mini');
const TEST_IMAGES = path.join(MINI, 't10k-images-idx3-ubyte.gz');
const TEST_LABELS = path.join(MINI, 't10k-labels-idx1-ubyte.gz');

/** Every layer type, every padding form, PReLU per channel and shared, maxout on maps and on vectors; standardized input. */
const EVERY_LAYER = `name: every-layer
seed: 3
data:
  train: {format: idx, images: ${JSON.stringify(path.join(MINI, 'train-images-idx3-ubyte.gz'))}, labels: ${JSON.stringify(path.join(MINI, 'train-labels-idx1-ubyte.gz'))}}
  test: {format: idx, images: ${JSON.stringify(TEST_IMAGES)}, labels: ${JSON.stringify(TEST_LABELS)}}
  preprocess: {standardize: true}
model:
  input: [1, 28, 28]
  layers:
    - {type: conv2d, filters: 4, kernel: 3, padding: same}          # [4, 28, 28]
    - prelu                                                         # one slope per channel
    - {type: maxpool2d, size: 2}                                    # [4, 14, 14]
    - {type: conv2d, filters: 6, kernel: 3, stride: 2, padding: 1}  # [6, 7, 7]
    - {type: leaky_relu, alpha: 0.1}
    - {type: channel_maxpool, group: 2}                             # [3, 7, 7]
    - {type: avgpool2d, size: 3, stride: 2}                         # [3, 3, 3]
    - {type: elu, alpha: 0.5}
    - {type: conv2d, filters: 5, kernel: 2}                         # [5, 2, 2] (valid)
    - flatten                                                       # [20]
    - {type: dense, units: 16}
    - tanh
    - {type: dropout, rate: 0.2}
    - {type: prelu, shared: true}
    - {type: dense, units: 12}
    - sigmoid
    - {type: channel_maxpool, group: 2}                             # [6]
    - relu
    - {type: dense, units: 10}
loss: softmax_cross_entropy
optimizer: {type: adam, lr: 0.01}
training: {epochs: 1, batch_size: 64}
`;

const runs = new Map<string, string>();

/** Training images per run: enough for trained weights, few enough that the ten runs take seconds. */
const TRAIN_IMAGES = 1000;

/** The first TRAIN_IMAGES of the shipped training set, as IDX files in the temp folder. */
const trainSubset = (() => {
  let files: { images: string; labels: string } | undefined;
  const cut = (from: string, to: string, headerBytes: number, itemBytes: number): string => {
    const raw = gunzipSync(readFileSync(path.join(MINI, from)));
    const out = Buffer.from(raw.subarray(0, headerBytes + TRAIN_IMAGES * itemBytes));
    out.writeUInt32BE(TRAIN_IMAGES, 4); // the item count follows the 4-byte magic number
    return tmp.write(to, out);
  };
  return () =>
    (files ??= {
      images: cut('train-images-idx3-ubyte.gz', 'train-images', 16, 784),
      labels: cut('train-labels-idx1-ubyte.gz', 'train-labels', 8, 1),
    });
})();

/** A run of `config` (a shipped config's name, or YAML) trained for one epoch on part of the shipped Fashion-MNIST subset. */
function trainedRun(name: string, config: string, overrides: string[] = []): string {
  const cached = runs.get(name);
  if (cached) return cached;
  const file = config.endsWith('.yaml') ? path.join(repoRoot, 'configs', config) : tmp.write(`${name}.yaml`, config);
  const train = trainSubset();
  const data = [
    `data.train.images=${train.images}`,
    `data.train.labels=${train.labels}`,
    `data.test.images=${TEST_IMAGES}`,
    `data.test.labels=${TEST_LABELS}`,
  ];
  const sets = [...data, 'training.epochs=1', ...overrides].flatMap((s) => ['--set', s]);
  const r = dlt(['train', file, '--out', path.join(tmp.dir, 'runs'), ...sets], tmp.dir);
  expect(r.stderr).not.toMatch(/^error:/m);
  expect(r.code).toBe(0);
  const runDir = r.stdout.split('\n')[0]!;
  runs.set(name, runDir);
  return runDir;
}

interface DltLogits {
  logits: Float64Array;
  classes: number;
  labels: Int32Array;
  names?: readonly string[];
}
const logitsOf = new Map<string, DltLogits>();

/** dlt's scores for the run's test images, as dlt eval computes them: [N × classes], and the labels. */
function dltLogits(runDir: string): DltLogits {
  const cached = logitsOf.get(runDir);
  if (cached) return cached;
  const snapshot = readTargetSnapshot(runDir, 'best');
  const model = loadTrainedModel(snapshot, jsKernels, ['test']);
  const test = model.splits.test!;
  const { network, preprocessor } = model;
  const n = test.indices.length;
  const classes = network.outputSize;
  const logits = new Float64Array(n * classes);
  const labels = new Int32Array(n);
  const batch = 250;
  const x = allocate(network.dtype, batch * network.inputSize);
  const y = new Int32Array(batch);
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    preprocessor.fill(test, undefined, start, m, x, y);
    logits.set(network.forward(x, m, false).subarray(0, m * classes), start * classes);
    labels.set(y.subarray(0, m), start);
  }
  const result = { logits, classes, labels, ...(model.classNames ? { names: model.classNames } : {}) };
  logitsOf.set(runDir, result);
  return result;
}

function argmaxes(scores: ArrayLike<number>, classes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i * classes < scores.length; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (scores[i * classes + c]! > scores[i * classes + best]!) best = c;
    out.push(best);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** The shipped test images as onnxruntime-node's input: raw byte values as float32, [N, 1, 28, 28]. */
function testImagesTensor(): ort.Tensor {
  const raw = gunzipSync(readFileSync(TEST_IMAGES));
  const n = raw.readUInt32BE(4);
  return new ort.Tensor('float32', Float32Array.from(raw.subarray(16)), [n, 1, raw.readUInt32BE(8), raw.readUInt32BE(12)]);
}

function runPython(python: string, script: string, args: string[]): string {
  const r = spawnSync(python, [path.join(repoRoot, 'test', 'support', script), ...args], { encoding: 'utf8', timeout: 300_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

function floats(file: string, bytesPer: 4 | 8): Float32Array | Float64Array {
  const bytes = readFileSync(file);
  const copy = new Uint8Array(bytes); // aligned
  return bytesPer === 4 ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
}

const ONNX_MODELS: { name: string; config: string; opsets: number[] }[] = [
  { name: 'mlp', config: 'quickstart.yaml', opsets: [17] },
  { name: 'lenet', config: 'fashion-lenet.yaml', opsets: [17] },
  { name: 'fashion-cnn', config: 'fashion-cnn.yaml', opsets: [17] },
  { name: 'every-layer', config: EVERY_LAYER, opsets: [13, 17, 18, 21] },
];

describe('dlt export --format onnx, read by onnx and onnxruntime', () => {
  for (const { name, config, opsets } of ONNX_MODELS) {
    for (const opset of opsets) {
      it(`${name}, opset ${opset}: passes the checker, and onnxruntime (Python, Node) gives dlt's logits`, async (ctx) => {
        const env = pythonWith({ onnx: 'onnx', onnxruntime: 'onnxruntime', numpy: 'numpy' });
        const runDir = trainedRun(name, config);
        const file = path.join(tmp.dir, `${name}-${opset}.onnx`);
        const r = dlt(['export', runDir, '--out', file, '--opset', String(opset)], tmp.dir);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toBe(`${file}\n`);
        const want = dltLogits(runDir);

        // onnxruntime-node, in this process.
        const session = await ort.InferenceSession.create(file);
        const out = await session.run({ input: testImagesTensor() });
        const nodeLogits = out.logits!.data;
        if (!(nodeLogits instanceof Float32Array)) throw new Error('onnxruntime-node returned logits that are not float32');
        expect(maxAbsDiff(nodeLogits, want.logits)).toBeLessThanOrEqual(1e-4);
        expect(argmaxes(nodeLogits, want.classes)).toEqual(argmaxes(want.logits, want.classes));

        if ('missing' in env) return ctx.skip(`Python check skipped: needs ${env.missing}`);
        const prefix = path.join(tmp.dir, `${name}-${opset}`);
        const described = JSON.parse(runPython(env.python, 'onnx_check.py', [file, TEST_IMAGES, prefix]));
        expect(described.inputs).toEqual([{ name: 'input', shape: ['N', 1, 28, 28] }]);
        expect(described.outputs).toEqual([
          { name: 'logits', shape: ['N', want.classes] },
          { name: 'probabilities', shape: ['N', want.classes] },
        ]);
        expect(described.opset).toEqual([opset]);
        expect(described.metadata.dlt_version).toBe(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
        expect(described.metadata.run_name).toBe(name === 'mlp' ? 'quickstart' : name === 'lenet' ? 'fashion-lenet' : name);
        if (want.names) expect(JSON.parse(described.metadata.classes)).toEqual(want.names);
        const logits = floats(`${prefix}.logits`, 4);
        expect(maxAbsDiff(logits, want.logits)).toBeLessThanOrEqual(1e-4);
        const predicted = argmaxes(logits, want.classes);
        expect(predicted).toEqual(argmaxes(want.logits, want.classes));
        // Probabilities: softmax of the logits, a distribution per image.
        const probabilities = floats(`${prefix}.probabilities`, 4);
        expect(argmaxes(probabilities, want.classes)).toEqual(predicted);
        for (let i = 0; i < predicted.length; i++) {
          const row = Array.from(probabilities.subarray(i * want.classes, (i + 1) * want.classes));
          expect(Math.abs(row.reduce((s, p) => s + p, 0) - 1)).toBeLessThan(1e-5);
        }
        // onnxruntime's classes score exactly what dlt eval reports.
        const evaluated = dlt(['eval', runDir, '--json'], tmp.dir);
        expect(evaluated.stderr).toBe('');
        expect(evaluated.code).toBe(0);
        const correct = predicted.filter((c, i) => c === want.labels[i]).length;
        expect(correct / predicted.length).toBe(JSON.parse(evaluated.stdout).accuracy);
        if (name === 'every-layer') {
          for (const op of [
            'Sub',
            'Div',
            'Conv',
            'PRelu',
            'MaxPool',
            'LeakyRelu',
            'Reshape',
            'ReduceMax',
            'AveragePool',
            'Elu',
            'Flatten',
            'Gemm',
            'Tanh',
            'Sigmoid',
            'Relu',
            'Softmax',
          ]) {
            expect(described.ops).toContain(op);
          }
          expect(described.ops).not.toContain('Dropout');
        }
      });
    }
  }
});

const TORCH_MODELS: { name: string; config: string; overrides?: string[] }[] = [
  { name: 'mlp', config: 'quickstart.yaml' },
  { name: 'lenet', config: 'fashion-lenet.yaml' },
  { name: 'every-layer', config: EVERY_LAYER },
  { name: 'every-layer-float64', config: EVERY_LAYER, overrides: ['training.dtype=float64'] },
];

describe('dlt export --format torch, run by PyTorch 2.x', () => {
  for (const { name, config, overrides } of TORCH_MODELS) {
    it(`${name}: the generated module loads the snapshot unchanged and gives dlt's logits within 1e-5`, (ctx) => {
      const env = pythonWith({ torch: 'torch', safetensors: 'safetensors', numpy: 'numpy' });
      if ('missing' in env) return ctx.skip(`needs ${env.missing}`);
      const runDir = trainedRun(name, config, overrides);
      const r = dlt(['export', runDir, '--format', 'torch'], tmp.dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const module = path.join(runDir, 'model.py');
      expect(r.stdout).toBe(`${module}\n`);
      const out = path.join(tmp.dir, `${name}.torch-logits`);
      const described = JSON.parse(runPython(env.python, 'torch_check.py', [module, TEST_IMAGES, out]));
      expect(described.torch).toMatch(/^2\./);
      expect(described.training).toBe(false);
      expect(described.dtype).toBe(name.endsWith('float64') ? 'torch.float64' : 'torch.float32');
      const want = dltLogits(runDir);
      const logits = floats(out, 8);
      expect(maxAbsDiff(logits, want.logits)).toBeLessThanOrEqual(1e-5);
      expect(argmaxes(logits, want.classes)).toEqual(argmaxes(want.logits, want.classes));
      if (name.startsWith('every-layer')) {
        expect(new Set(described.modules)).toEqual(
          new Set([
            'Preprocess',
            'Conv2d',
            'PReLU',
            'MaxPool2d',
            'LeakyReLU',
            'ChannelMaxpool',
            'AvgPool2d',
            'ELU',
            'Flatten',
            'Linear',
            'Tanh',
            'Dropout',
            'Sigmoid',
            'ReLU',
          ]),
        );
      }
    });
  }
});

describe('dlt export: bad input', () => {
  it('refuses an opset it does not write, a missing target and a module name Python cannot import, writing nothing', () => {
    const runDir = trainedRun('mlp', 'quickstart.yaml');
    const before = existsSync(path.join(runDir, 'model.onnx')) ? readFileSync(path.join(runDir, 'model.onnx')) : undefined;
    expect(expectInputError(dlt(['export', runDir, '--opset', '12'], tmp.dir))).toMatch(
      /--opset 12 is not supported: dlt writes ONNX opsets 13 to 21/,
    );
    const after = existsSync(path.join(runDir, 'model.onnx')) ? readFileSync(path.join(runDir, 'model.onnx')) : undefined;
    expect(after).toEqual(before);
    expect(expectInputError(dlt(['export', path.join(tmp.dir, 'nowhere')], tmp.dir))).toMatch(/nowhere: no such run directory or snapshot file/);
    const badName = path.join(tmp.dir, 'my-model.py');
    expect(expectInputError(dlt(['export', runDir, '--format', 'torch', '--out', badName], tmp.dir))).toMatch(/my-model\.py: .*Python identifier/);
    expect(existsSync(badName)).toBe(false);
  });

  it('names the training data it needs when that is gone, and leaves an earlier export as it was', () => {
    const folder = path.join(tmp.dir, 'moved');
    mkdirSync(folder, { recursive: true });
    const images = path.join(folder, 'train-images.gz');
    const labels = path.join(folder, 'train-labels.gz');
    writeFileSync(images, readFileSync(path.join(MINI, 'train-images-idx3-ubyte.gz')));
    writeFileSync(labels, readFileSync(path.join(MINI, 'train-labels-idx1-ubyte.gz')));
    const runDir = trainedRun('moved-data', 'quickstart.yaml', [`data.train.images=${images}`, `data.train.labels=${labels}`]);
    const out = path.join(runDir, 'model.onnx');
    expect(dlt(['export', runDir], tmp.dir).code).toBe(0);
    const exported = readFileSync(out);
    const stamp = statSync(out).mtimeMs;
    writeFileSync(images, ''); // the training data is damaged: standardize/scale cannot be fitted again
    const message = expectInputError(dlt(['export', runDir], tmp.dir));
    expect(message).toContain(images);
    expect(readFileSync(out)).toEqual(exported);
    expect(statSync(out).mtimeMs).toBe(stamp);
  });
});
