import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CATALOG, cacheRoot, catalogEntry, DATASET_NAMES, downloadUrls, locateDataset } from '../src/data/catalog.js';
import { readIdx } from '../src/data/idx.js';
import { tempDir } from './support/cli.js';
import { inputErrorOf } from './support/layers.js';

const tmp = tempDir('dlt-catalog-');
afterAll(() => tmp.cleanup());

const IDX = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

/** A folder holding `files` (empty files: lookup looks at names, not contents). */
function folderWith(dir: string, files: readonly string[]): string {
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), '');
  }
  return dir;
}

describe('the cache folder', () => {
  it('is $DLT_DATA when set, resolved against the current folder', () => {
    expect(cacheRoot({ DLT_DATA: '/data/sets', XDG_CACHE_HOME: '/xdg' })).toBe('/data/sets');
    expect(cacheRoot({ DLT_DATA: 'rel/sets' })).toBe(path.resolve('rel/sets'));
  });

  it('is $XDG_CACHE_HOME/dlt next, and ~/.cache/dlt when XDG_CACHE_HOME is unset or relative', () => {
    expect(cacheRoot({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/dlt');
    expect(cacheRoot({ XDG_CACHE_HOME: 'relative' })).toBe(path.join(homedir(), '.cache', 'dlt'));
    expect(cacheRoot({ DLT_DATA: '' })).toBe(path.join(homedir(), '.cache', 'dlt'));
  });
});

describe('the catalog', () => {
  it('knows mnist, fashion-mnist and cifar10, each file with an MD5 and an http(s) URL', () => {
    expect([...DATASET_NAMES].sort()).toEqual(['cifar10', 'fashion-mnist', 'mnist']);
    for (const name of DATASET_NAMES) {
      const entry = CATALOG[name];
      expect(entry.downloads.length).toBeGreaterThan(0);
      for (const file of entry.downloads) {
        expect(file.md5, `${name}/${file.file}`).toMatch(/^[0-9a-f]{32}$/);
        expect(file.urls.length).toBeGreaterThan(0);
        for (const url of file.urls) expect(url).toMatch(new RegExp(`^https?://[^/]+/(.*/)?${file.file.replace(/\./g, '\\.')}$`));
      }
    }
  });

  it('says what each dataset needs: the four IDX files, or the six CIFAR-10 batches from the archive', () => {
    for (const name of ['mnist', 'fashion-mnist'] as const) {
      expect([...CATALOG[name].required].sort()).toEqual([...IDX].sort());
      expect(CATALOG[name].downloads.map((d) => d.file).sort()).toEqual([...IDX].sort());
    }
    const cifar = CATALOG.cifar10;
    expect(cifar.archive).toEqual({ file: 'cifar-10-binary.tar.gz', folder: 'cifar-10-batches-bin' });
    expect(cifar.required).toHaveLength(6);
    for (const f of cifar.required) expect(f.startsWith('cifar-10-batches-bin/')).toBe(true);
  });

  it('tries MNIST at its home first and at the mirror torchvision uses after', () => {
    const urls = CATALOG.mnist.downloads[0]!.urls;
    expect(urls[0]).toMatch(/^http:\/\/yann\.lecun\.com\/exdb\/mnist\//);
    expect(urls[1]).toMatch(/^https:\/\/ossci-datasets\.s3\.amazonaws\.com\/mnist\//);
  });

  it('replaces every URL with $DLT_DATA_MIRROR/<name>/<file> when that is set', () => {
    const entry = CATALOG['fashion-mnist'];
    const file = entry.downloads[0]!;
    expect(downloadUrls(entry, file, { DLT_DATA_MIRROR: 'http://127.0.0.1:9/m/' })).toEqual([`http://127.0.0.1:9/m/fashion-mnist/${file.file}`]);
    expect(downloadUrls(entry, file, {})).toEqual(file.urls);
  });

  it('rejects an unknown name with the known ones and a did-you-mean hint', () => {
    expect(inputErrorOf(() => catalogEntry('fasion-mnist')).message).toBe(
      'unknown dataset "fasion-mnist" (known: mnist, fashion-mnist, cifar10); did you mean "fashion-mnist"?',
    );
    expect(inputErrorOf(() => catalogEntry('imagenet')).message).not.toContain('did you mean');
    // Names are looked up as data, not as properties of an object.
    expect(inputErrorOf(() => catalogEntry('toString')).message).toContain('unknown dataset "toString"');
  });
});

describe('locateDataset', () => {
  const cache = path.join(tmp.dir, 'cache');
  const system = path.join(tmp.dir, 'system', 'fashion-mnist');
  const env = { DLT_DATA: cache };
  const systemDirs = () => [system];

  it('throws an InputError that says where it looked and how to fetch when the set is nowhere', () => {
    const err = inputErrorOf(() => locateDataset('fashion-mnist', 'train', { env, systemDirs }));
    expect(err.message).toContain('dataset "fashion-mnist" is not on this machine');
    expect(err.message).toContain(`${path.join(cache, 'fashion-mnist')} (cache): no such folder`);
    expect(err.message).toContain(`${system} (system): no such folder`);
    expect(err.message).toContain('run `dlt data fetch fashion-mnist`');
  });

  it('finds a complete system copy when the cache has none', () => {
    folderWith(system, IDX);
    expect(locateDataset('fashion-mnist', 'test', { env, systemDirs })).toEqual({
      format: 'idx',
      images: path.join(system, 't10k-images-idx3-ubyte.gz'),
      labels: path.join(system, 't10k-labels-idx1-ubyte.gz'),
    });
  });

  it('passes over an incomplete cache folder', () => {
    folderWith(path.join(cache, 'fashion-mnist'), IDX.slice(0, 2));
    expect(locateDataset('fashion-mnist', 'train', { env, systemDirs })).toMatchObject({ images: path.join(system, 'train-images-idx3-ubyte.gz') });
    const err = inputErrorOf(() => locateDataset('fashion-mnist', 'train', { env, systemDirs: () => [] }));
    expect(err.message).toContain('missing t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz');
  });

  it('prefers the cache to a system location', () => {
    folderWith(path.join(cache, 'fashion-mnist'), IDX);
    expect(locateDataset('fashion-mnist', 'train', { env, systemDirs })).toEqual({
      format: 'idx',
      images: path.join(cache, 'fashion-mnist', 'train-images-idx3-ubyte.gz'),
      labels: path.join(cache, 'fashion-mnist', 'train-labels-idx1-ubyte.gz'),
    });
  });

  it('gives CIFAR-10 as the batches folder with the split, once all six batches are there', () => {
    const dir = path.join(cache, 'cifar10');
    folderWith(dir, CATALOG.cifar10.required.slice(0, 5));
    expect(() => locateDataset('cifar10', 'train', { env })).toThrow(/missing cifar-10-batches-bin\/test_batch\.bin/);
    folderWith(dir, CATALOG.cifar10.required);
    expect(locateDataset('cifar10', 'train', { env })).toEqual({ format: 'cifar10', path: path.join(dir, 'cifar-10-batches-bin'), split: 'train' });
    expect(locateDataset('cifar10', 'test', { env })).toEqual({ format: 'cifar10', path: path.join(dir, 'cifar-10-batches-bin'), split: 'test' });
  });

  it('rejects an unknown name before looking anywhere', () => {
    expect(inputErrorOf(() => locateDataset('mnsit', 'train', { env })).message).toContain('did you mean "mnist"?');
  });

  // Debian's dataset-fashion-mnist, where it is installed: found with an empty cache, and
  // its files are the full IDX set.
  const debian = '/usr/share/datasets/fashion-mnist';
  it.skipIf(!existsSync(path.join(debian, 't10k-labels-idx1-ubyte.gz')))("finds Debian's dataset-fashion-mnist in /usr/share/datasets", () => {
    const spec = locateDataset('fashion-mnist', 'test', { env: { DLT_DATA: path.join(tmp.dir, 'empty') } });
    expect(spec).toEqual({
      format: 'idx',
      images: path.join(debian, 't10k-images-idx3-ubyte.gz'),
      labels: path.join(debian, 't10k-labels-idx1-ubyte.gz'),
    });
    if (spec.format !== 'idx') throw new Error('unreachable');
    expect(readIdx(spec.labels, 'data.test.labels').dims).toEqual([10000]);
  });
});
