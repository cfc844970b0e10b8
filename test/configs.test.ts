import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { locateDataset } from '../src/data/catalog.js';
import { writeCifar10Folder } from './support/cifar10.js';
import { dlt, repoRoot, tempDir } from './support/cli.js';

const tmp = tempDir('dlt-configs-');
afterAll(() => tmp.cleanup());

const configs = readdirSync(path.join(repoRoot, 'configs')).filter((f) => f.endsWith('.yaml'));
const FULL = '/usr/share/datasets/fashion-mnist/';
const MINI = `${path.join(repoRoot, 'datasets', 'fashion-mnist-mini')}/`;

/** Whether a named data set is in the cache or a system folder. */
function present(name: string): boolean {
  try {
    locateDataset(name, 'train');
    return true;
  } catch {
    return false;
  }
}

describe('every shipped config', () => {
  it('there are configs to check', () => {
    expect(configs.length).toBeGreaterThanOrEqual(5);
  });

  for (const name of configs) {
    it(`${name} validates and trains one epoch on shipped or generated data`, () => {
      const file = path.join(repoRoot, 'configs', name);
      const config = loadConfig(file);
      const overrides = ['training.epochs=1'];
      // Configs meant for the full Fashion-MNIST run here on the shipped subset.
      for (const split of ['train', 'test'] as const) {
        const spec = config.data[split];
        if (spec && 'format' in spec && spec.format === 'idx' && spec.images.startsWith(FULL)) {
          overrides.push(`data.${split}.images=${spec.images.replace(FULL, MINI)}`, `data.${split}.labels=${spec.labels.replace(FULL, MINI)}`);
        }
      }
      // CIFAR-10 is not shipped: when it has not been downloaded, the config runs on a
      // tiny generated stand-in in the real binary layout, too small to judge accuracy by.
      let standIn = false;
      for (const split of ['train', 'test'] as const) {
        const spec = config.data[split];
        if (spec && 'name' in spec && spec.name === 'cifar10' && !present('cifar10')) {
          const folder = writeCifar10Folder(path.join(tmp.dir, 'cifar10-stand-in'), 40, 20);
          overrides.push(`data.${split}={format: cifar10, path: ${JSON.stringify(folder)}}`);
          standIn = true;
        }
      }
      const r = dlt(['train', file, '--out', tmp.dir, ...overrides.flatMap((o) => ['--set', o])], tmp.dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const summary = JSON.parse(readFileSync(path.join(r.stdout.split('\n')[0]!, 'summary.json'), 'utf8'));
      expect(summary.epochs).toBe(1);
      // One epoch is enough to beat chance (1/classes) on every shipped task that has a held-out split.
      const last = config.model.layers[config.model.layers.length - 1]!;
      const classes = last.type === 'dense' ? last.units : NaN;
      const accuracy = summary.test_accuracy ?? summary.val_accuracy;
      console.log(`${name}: 1 epoch, accuracy ${accuracy}`);
      if (standIn) console.log(`${name}: accuracy not checked — its CIFAR-10 data is absent, so it ran on a generated stand-in of 200 images`);
      else if (accuracy !== null) expect(accuracy, name).toBeGreaterThan(1 / classes);
    });
  }
});
