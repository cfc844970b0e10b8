import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { readSafetensors } from '../src/snapshot/safetensors.js';
import { nativeThreadDefault } from '../src/tensor/backend.js';
import { nativeStatus } from '../src/tensor/native.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { metricsWithoutClock, sha256 } from './support/resumeSupport.js';

const tmp = tempDir('dlt-cli-');
afterAll(() => tmp.cleanup());

const spiralConfig = `name: spiral-test
seed: 7
data:
  train: {format: spiral, classes: 3, points_per_class: 60, noise: 0.1}
  test: {format: spiral, classes: 3, points_per_class: 20, noise: 0.1}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers:
    - {type: dense, units: 32}
    - relu
    - {type: dense, units: 3, init: xavier}
optimizer: {type: sgd, lr: 0.1, momentum: 0.9}
training: {epochs: 30, batch_size: 16, keep_snapshots: 2, log_every: 5}
`;

describe('dlt train', () => {
  const config = tmp.write('spiral.yaml', spiralConfig);
  const out = path.join(tmp.dir, 'runs');
  const first = dlt(['train', config, '--out', out], tmp.dir);
  const runDir = first.stdout.split('\n')[0]!;

  it('trains the spiral and writes the run directory of SPEC §4', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // Without the native addon, the start line says why the JavaScript backend runs.
    if (!nativeStatus().loaded) expect(first.stdout).toMatch(/backend js \(1 thread\), float32 \(the native backend is .+\)/);
    expect(path.dirname(runDir)).toBe(out);
    expect(path.basename(runDir)).toMatch(/^spiral-test-\d{8}-\d{6}$/);
    for (const f of ['config.yaml', 'metrics.jsonl', 'summary.json', 'best.safetensors', 'snapshots/latest.safetensors']) {
      expect(existsSync(path.join(runDir, f)), f).toBe(true);
    }
    // keep_snapshots: 2 → the two newest epoch files only
    expect(readdirSync(path.join(runDir, 'snapshots')).sort()).toEqual(['epoch-0029.safetensors', 'epoch-0030.safetensors', 'latest.safetensors']);
  });

  it('writes the resolved config with every default filled in', () => {
    const resolved = parseYaml(readFileSync(path.join(runDir, 'config.yaml'), 'utf8'));
    expect(resolved.training).toMatchObject({ epochs: 30, batch_size: 16, shuffle: true, loss_window: 100, dtype: 'float32' });
    expect(resolved.optimizer).toEqual({ type: 'sgd', lr: 0.1, momentum: 0.9, nesterov: false });
  });

  it('logs step and epoch records and learns the spiral', () => {
    const records = readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const epochs = records.filter((r) => r.kind === 'epoch');
    expect(epochs).toHaveLength(30);
    expect(Object.keys(epochs[0]).sort()).toEqual(
      ['epoch', 'kind', 'lr', 'samples_per_s', 'seconds', 'step', 'train_loss_avg', 'val_accuracy', 'val_loss'].sort(),
    );
    // 144 training points at batch 16 → 9 steps per epoch; a step record every 5 steps
    expect(epochs[29].step).toBe(270);
    expect(records.filter((r) => r.kind === 'step')).toHaveLength(54);
    expect(epochs[29].train_loss_avg).toBeLessThan(epochs[0].train_loss_avg);
    const summary = JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8'));
    // --backend auto (the default) takes the native backend wherever it built, unless
    // DLT_BACKEND says otherwise (DLT_BACKEND=js npm test runs the suite on JavaScript).
    const chosen = process.env.DLT_BACKEND ?? 'auto';
    const backend = chosen === 'auto' ? (nativeStatus().loaded ? 'native' : 'js') : chosen;
    const threads = backend === 'native' ? nativeThreadDefault().threads : 1;
    expect(summary).toMatchObject({ name: 'spiral-test', epochs: 30, steps: 270, backend, threads, dtype: 'float32' });
    expect(summary.test_accuracy).toBeGreaterThan(0.8);
  });

  it('writes snapshots in the safetensors layout with dlt metadata', () => {
    const file = readSafetensors(path.join(runDir, 'snapshots', 'latest.safetensors'));
    expect([...file.tensors.keys()].filter((k) => k.startsWith('param/'))).toEqual([
      'param/dense_1/weight',
      'param/dense_1/bias',
      'param/dense_2/weight',
      'param/dense_2/bias',
    ]);
    expect(file.tensors.get('param/dense_1/weight')!.shape).toEqual([32, 2]);
    expect(file.tensors.get('optim/dense_2/weight/velocity')!.shape).toEqual([3, 32]);
    expect(file.metadata.get('format')).toBe('dlt-snapshot');
    expect(JSON.parse(file.metadata.get('state')!)).toMatchObject({ epoch: 30, step: 270 });
    expect(file.metadata.get('sha256')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is deterministic: the same config and seed give identical metrics', () => {
    const again = dlt(['train', config, '--out', out], tmp.dir);
    expect(again.code).toBe(0);
    const otherDir = again.stdout.split('\n')[0]!;
    expect(otherDir).not.toBe(runDir);
    expect(metricsWithoutClock(otherDir)).toEqual(metricsWithoutClock(runDir));
    // The same tensors, bit for bit (the files differ in the state's wall-clock fields).
    const a = readSafetensors(path.join(runDir, 'snapshots', 'latest.safetensors'));
    const b = readSafetensors(path.join(otherDir, 'snapshots', 'latest.safetensors'));
    expect(sha256(b.data)).toBe(sha256(a.data));
    // A different seed gives a different run.
    const other = dlt(['train', config, '--out', out, '--seed', '8'], tmp.dir);
    expect(metricsWithoutClock(other.stdout.split('\n')[0]!)).not.toEqual(metricsWithoutClock(runDir));
  });

  it('--backend js and --threads are printed at start and recorded in summary.json', () => {
    const js = dlt(['train', config, '--out', out, '--backend', 'js'], tmp.dir);
    expect(js.code).toBe(0);
    expect(js.stdout).toContain('backend js (1 thread), float32');
    const jsDir = js.stdout.split('\n')[0]!;
    expect(JSON.parse(readFileSync(path.join(jsDir, 'summary.json'), 'utf8'))).toMatchObject({ backend: 'js', threads: 1 });
    if (!nativeStatus().loaded) return; // the rest needs the native backend
    const native = dlt(['train', config, '--out', out, '--backend', 'native', '--threads', '2'], tmp.dir);
    expect(native.code).toBe(0);
    expect(native.stdout).toContain('backend native (2 threads), float32');
    expect(JSON.parse(readFileSync(path.join(native.stdout.split('\n')[0]!, 'summary.json'), 'utf8'))).toMatchObject({
      backend: 'native',
      threads: 2,
    });
    // Resuming on another backend than the run's works, with a warning.
    const resumed = dlt(['resume', jsDir, '--epochs', '31', '--backend', 'native'], tmp.dir);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('this run was trained on the js backend with 1 thread(s) and resumes on the native backend');
  });

  it('bad thread counts are input errors', () => {
    expect(expectInputError(dlt(['train', config, '--out', out, '--threads', '0'], tmp.dir))).toContain(
      "option '--threads <n>' argument '0' is invalid",
    );
    expect(expectInputError(dlt(['train', config, '--out', out], tmp.dir, { DLT_THREADS: 'many' }))).toContain(
      'DLT_THREADS=many: expected a whole number',
    );
  });

  it('dlt eval reports on the test split, as a table and as JSON', () => {
    const table = dlt(['eval', runDir], tmp.dir);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('best.safetensors');
    expect(table.stdout).toMatch(/accuracy\s+0\.\d{4}/);
    const json = dlt(['eval', runDir, '--json', '--split', 'val'], tmp.dir);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(Object.keys(r)).toEqual(['split', 'samples', 'loss', 'accuracy', 'per_class_accuracy', 'confusion']);
    expect(r.split).toBe('val');
    expect(r.samples).toBe(36);
    expect(r.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(36);
    expect(r.per_class_accuracy).toHaveLength(3);
    // A snapshot file given directly is evaluated as is.
    const latest = dlt(['eval', path.join(runDir, 'snapshots', 'latest.safetensors'), '--json'], tmp.dir);
    expect(JSON.parse(latest.stdout).samples).toBe(60);
  });
});

describe('bad input: exit 2, one message, no stack trace', () => {
  const out = path.join(tmp.dir, 'bad-runs');
  const withData = (train: string) =>
    spiralConfig
      .replace(/ {2}train: .*\n {2}test: .*\n/, `  train: ${train}\n`)
      .replace('input: [2]', 'input: [1, 2, 2]')
      .replace('layers:\n', 'layers:\n    - flatten\n');

  /** IDX bytes: a header claiming `dims`, then the payload. */
  function idx(dims: number[], payload: Uint8Array): Buffer {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header[2] = 0x08;
    header[3] = dims.length;
    for (const [i, d] of dims.entries()) header.writeUInt32BE(d, 4 + 4 * i);
    return Buffer.concat([header, payload]);
  }
  const images = idx([6, 2, 2], new Uint8Array(24).fill(100));
  const labels = idx([6], Uint8Array.from([0, 1, 2, 0, 1, 2]));

  function trainWith(imagesBytes: Uint8Array, labelsBytes: Uint8Array, name: string): string {
    const img = tmp.write(`${name}-images.idx`, imagesBytes);
    const lab = tmp.write(`${name}-labels.idx`, labelsBytes);
    const cfg = tmp.write(`${name}.yaml`, withData(`{format: idx, images: ${img}, labels: ${lab}}`));
    return expectInputError(dlt(['train', cfg, '--out', out], tmp.dir));
  }

  it('accepts the well-formed IDX pair these cases corrupt', () => {
    const img = tmp.write('ok-images.idx', images);
    const lab = tmp.write('ok-labels.idx', labels);
    const cfg = tmp.write('ok.yaml', withData(`{format: idx, images: ${img}, labels: ${lab}}`).replace('epochs: 30', 'epochs: 1'));
    expect(dlt(['train', cfg, '--out', path.join(tmp.dir, 'ok-runs')], tmp.dir).code).toBe(0);
  });

  it('YAML syntax error', () => {
    const cfg = tmp.write('syntax.yaml', 'name: x\nmodel: {input: [2\n');
    expect(expectInputError(dlt(['train', cfg], tmp.dir))).toMatch(/syntax\.yaml:\d+:\d+: YAML syntax error/);
  });

  it('unknown key', () => {
    const cfg = tmp.write('unknown.yaml', spiralConfig.replace('training: {', 'training: {epoch: 3, '));
    expect(expectInputError(dlt(['train', cfg], tmp.dir))).toMatch(
      /unknown\.yaml:14:\d+: training\.epoch: unknown key "epoch"; did you mean "epochs"\?/,
    );
  });

  it('wrong type, negative learning rate, batch size 0, bad input size', () => {
    const cases: [string, RegExp][] = [
      [spiralConfig.replace('seed: 7', 'seed: seven'), /seed: expected a number, got "seven"/],
      [spiralConfig.replace('lr: 0.1', 'lr: -0.1'), /optimizer\.lr: must be > 0, got -0\.1/],
      [spiralConfig.replace('batch_size: 16', 'batch_size: 0'), /training\.batch_size: must be at least 1, got 0/],
      [spiralConfig.replace('input: [2]', 'input: [-2]'), /model\.input\.0: must be at least 1, got -2/],
    ];
    cases.forEach(([text, message], i) => {
      const cfg = tmp.write(`value-${i}.yaml`, text);
      expect(expectInputError(dlt(['train', cfg, '--out', out], tmp.dir))).toMatch(message);
    });
  });

  it('empty config', () => {
    expect(expectInputError(dlt(['train', tmp.write('empty.yaml', '')], tmp.dir))).toContain('the config is empty');
  });

  it('YAML alias bomb', () => {
    const lines = ['a: &a [1,1,1,1,1,1,1,1,1,1]'];
    for (let i = 0; i < 8; i++) {
      const p = String.fromCharCode(97 + i);
      const n = String.fromCharCode(98 + i);
      lines.push(`${n}: &${n} [*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p},*${p}]`);
    }
    expect(expectInputError(dlt(['train', tmp.write('bomb.yaml', lines.join('\n'))], tmp.dir))).toContain('aliases');
  });

  it('missing config and missing dataset file', () => {
    expect(expectInputError(dlt(['train', 'nope.yaml'], tmp.dir))).toContain('config file not found');
    const cfg = tmp.write('missing-data.yaml', withData('{format: idx, images: gone.idx, labels: gone-labels.idx}'));
    expect(expectInputError(dlt(['train', cfg, '--out', out], tmp.dir))).toMatch(/gone\.idx/);
  });

  it('truncated IDX file, raw and gzip', () => {
    expect(trainWith(images.subarray(0, images.length - 5), labels, 'trunc-raw')).toContain('trunc-raw-images.idx');
    const gz = gzipSync(images);
    expect(trainWith(gz.subarray(0, gz.length - 10), labels, 'trunc-gz')).toContain('trunc-gz-images.idx');
  });

  it('a file that is not IDX', () => {
    expect(trainWith(Buffer.from('pixel,label\n1,2\n'), labels, 'text')).toMatch(/not an IDX file/i);
  });

  it('a header claiming more images than the file holds', () => {
    const lying = Buffer.from(images);
    lying.writeUInt32BE(2_000_000_000, 4);
    expect(trainWith(lying, labels, 'lying')).toMatch(/2000000000/);
  });

  it('label count not equal to image count', () => {
    expect(trainWith(images, idx([5], Uint8Array.from([0, 1, 2, 0, 1])), 'count')).toMatch(/5/);
  });

  it('a label not below the number of classes', () => {
    expect(trainWith(images, idx([6], Uint8Array.from([0, 1, 2, 0, 7, 2])), 'label')).toMatch(
      /label 7 at sample 4 is not below the number of classes, 3/,
    );
  });

  it('leaves no run directory behind', () => {
    expect(existsSync(out)).toBe(false);
  });

  it('unknown command and bad option values', () => {
    expect(dlt(['trian', 'x.yaml'], tmp.dir).code).toBe(2);
    expect(dlt(['train', 'x.yaml', '--seed', 'abc'], tmp.dir).code).toBe(2);
    expect(expectInputError(dlt(['eval', tmp.dir], tmp.dir))).toContain('not a run directory');
  });
});
