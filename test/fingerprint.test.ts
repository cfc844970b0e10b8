/**
 * Behaviour fingerprints: every shipped config, trained on the JavaScript backend on small
 * data, must end with the same tensors and the same metrics.jsonl (clock fields aside) as
 * when the fingerprints were recorded (test/fixtures/fingerprints.json, before the training
 * loop was reorganised). A refactor that changes any bit of any run fails here.
 *
 * The configs run with their own model, optimiser, schedule, epochs and preprocessing; only
 * their data is swapped for something small: Fashion-MNIST configs train on the first 600
 * training and 200 test images of the shipped subset, CIFAR-10 on a generated stand-in.
 *
 * To record the fingerprints again (only when a change of behaviour is intended, and then
 * say why in the commit): DLT_WRITE_FINGERPRINTS=1 npx vitest run test/fingerprint.test.ts
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { writeCifar10Folder } from './support/cifar10.js';
import { dlt, repoRoot, tempDir } from './support/cli.js';

const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'fingerprints.json');
const WRITE = process.env.DLT_WRITE_FINGERPRINTS === '1';
const TRAIN_IMAGES = 600;
const TEST_IMAGES = 200;
/**
 * Configs whose own epochs would take minutes even on the small data, trained for fewer:
 * their fingerprint still covers everything they add (here, data.augment and early
 * stopping's snapshots) over those epochs.
 */
const SHORTENED: Record<string, number> = { 'fashion-cnn-augment.yaml': 4 };
/** Wall-clock fields of metrics.jsonl records: they differ from run to run. */
const CLOCK_FIELDS = ['samples_per_s', 'seconds'];

interface Fingerprint {
  /** sha256 over the final snapshot's tensors (name and bytes, in name order). */
  latest: string;
  /** The same for best.safetensors, or null when the run has none. */
  best: string | null;
  /** sha256 of metrics.jsonl with the clock fields taken out of every record. */
  metrics: string;
}

const tmp = tempDir('dlt-fingerprint-');
afterAll(() => tmp.cleanup());

const configs = readdirSync(path.join(repoRoot, 'configs'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();
/**
 * Paths no shipped config takes, as configs of their own: on_nan: rollback (the loss
 * diverges once, in epoch 4, and the run goes on from epoch 3 at a tenth of the rate).
 */
const variants: Record<string, string> = {
  'variant-rollback.yaml': `name: rollback
seed: 2
data:
  train: {format: spiral, classes: 3, points_per_class: 40, noise: 0.15}
  test: {format: spiral, classes: 3, points_per_class: 10, noise: 0.15}
  validation: {fraction: 0.2}
model:
  input: [2]
  layers: [{type: dense, units: 16}, relu, {type: dense, units: 3}]
loss: squared
optimizer: {type: sgd, lr: 5, momentum: 0.9}
schedule: {type: step, every: 4, factor: 0.5}
training: {epochs: 12, batch_size: 8, keep_snapshots: 2, on_nan: rollback, log_every: 5}
`,
};
const names = [...configs, ...Object.keys(variants)];
const recorded: Record<string, Fingerprint> = existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : {};
const measured: Record<string, Fingerprint> = {};

afterAll(() => {
  if (!WRITE) return;
  const all: Record<string, Fingerprint> = { ...recorded, ...measured };
  const sorted = Object.fromEntries(
    Object.keys(all)
      .sort()
      .map((k) => [k, all[k]]),
  );
  writeFileSync(FIXTURE, `${JSON.stringify(sorted, null, 2)}\n`);
});

describe('behaviour fingerprints of the shipped configs (JavaScript backend)', () => {
  it('every shipped config has a recorded fingerprint', () => {
    if (WRITE) return;
    expect(Object.keys(recorded).sort()).toEqual([...names].sort());
  });

  for (const name of names) {
    it(`${name} trains to its recorded tensors and metrics`, () => {
      const file = variants[name] === undefined ? path.join(repoRoot, 'configs', name) : tmp.write(name, variants[name]);
      const overrides = [...smallData(file), ...(SHORTENED[name] !== undefined ? [`training.epochs=${SHORTENED[name]}`] : [])];
      const r = dlt(['train', file, '--out', tmp.dir, '--backend', 'js', ...overrides.flatMap((o) => ['--set', o])], tmp.dir);
      expect(r.stderr).not.toMatch(/^error:/m);
      expect(r.code).toBe(0);
      const runDir = r.stdout.split('\n')[0]!;
      const best = path.join(runDir, 'best.safetensors');
      const fingerprint: Fingerprint = {
        latest: tensorsHash(path.join(runDir, 'snapshots', 'latest.safetensors')),
        best: existsSync(best) ? tensorsHash(best) : null,
        metrics: metricsHash(path.join(runDir, 'metrics.jsonl')),
      };
      measured[name] = fingerprint;
      if (!WRITE) expect(fingerprint).toEqual(recorded[name]);
    });
  }
});

/** `--set` overrides that point a config's data at something small; nothing else changes. */
function smallData(file: string): string[] {
  const config = parseYaml(readFileSync(file, 'utf8')) as { data: Record<string, unknown> };
  const overrides: string[] = [];
  for (const split of ['train', 'test'] as const) {
    const spec = config.data[split] as Record<string, unknown> | undefined;
    if (spec?.format === 'idx') {
      const files = fashionSubset();
      overrides.push(`data.${split}.images=${files[split].images}`, `data.${split}.labels=${files[split].labels}`);
    }
    if (spec?.name === 'cifar10') {
      overrides.push(`data.${split}={format: cifar10, path: ${JSON.stringify(writeCifar10Folder(path.join(tmp.dir, 'cifar10'), 40, 20))}}`);
    }
  }
  return overrides;
}

let subset: Record<'train' | 'test', { images: string; labels: string }> | undefined;

/** The first images of the shipped Fashion-MNIST subset, as IDX files in the temp folder. */
function fashionSubset(): Record<'train' | 'test', { images: string; labels: string }> {
  if (subset) return subset;
  const mini = path.join(repoRoot, 'datasets', 'fashion-mnist-mini');
  const folder = path.join(tmp.dir, 'fashion');
  mkdirSync(folder, { recursive: true });
  const cut = (from: string, to: string, headerBytes: number, itemBytes: number, count: number): string => {
    const raw = gunzipSync(readFileSync(path.join(mini, from)));
    const out = Buffer.from(raw.subarray(0, headerBytes + count * itemBytes));
    out.writeUInt32BE(count, 4); // the item count follows the 4-byte magic number
    writeFileSync(path.join(folder, to), out);
    return path.join(folder, to);
  };
  subset = {
    train: {
      images: cut('train-images-idx3-ubyte.gz', 'train-images', 16, 784, TRAIN_IMAGES),
      labels: cut('train-labels-idx1-ubyte.gz', 'train-labels', 8, 1, TRAIN_IMAGES),
    },
    test: {
      images: cut('t10k-images-idx3-ubyte.gz', 'test-images', 16, 784, TEST_IMAGES),
      labels: cut('t10k-labels-idx1-ubyte.gz', 'test-labels', 8, 1, TEST_IMAGES),
    },
  };
  return subset;
}

/** sha256 over every tensor of a safetensors file, name and raw bytes, in name order. */
function tensorsHash(file: string): string {
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const data = bytes.subarray(8 + headerLength);
  const hash = createHash('sha256');
  for (const name of Object.keys(header)
    .filter((k) => k !== '__metadata__')
    .sort()) {
    const [begin, end] = header[name]!.data_offsets;
    hash.update(`${name}\n`).update(data.subarray(begin, end));
  }
  return hash.digest('hex');
}

/** sha256 of metrics.jsonl, every record without its clock fields. */
function metricsHash(file: string): string {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const stable = lines.map((line) => {
    const record = JSON.parse(line) as Record<string, unknown>;
    for (const field of CLOCK_FIELDS) delete record[field];
    return JSON.stringify(record);
  });
  return createHash('sha256').update(stable.join('\n')).digest('hex');
}
