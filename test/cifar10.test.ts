import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadCifar10 } from '../src/data/cifar10.js';
import { loadDataset } from '../src/data/load.js';
import { cifar10Record, writeCifar10Folder } from './support/cifar10.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { inputErrorOf } from './support/layers.js';
import { fifo, sparseFile } from './support/specialFiles.js';

const tmp = tempDir('dlt-cifar10-');
afterAll(() => tmp.cleanup());

// Every pixel says where it is: channel, row, column and the record it belongs to.
const code = (r: number, c: number, h: number, w: number): number => (r * 101 + c * 67 + h * 7 + w) % 256;

describe('loadCifar10', () => {
  it('reads records as [3, 32, 32] uint8: label byte, then the red, green and blue planes, each row-major', () => {
    const file = tmp.write('three.bin', Buffer.concat([0, 1, 2].map((r) => cifar10Record([7, 0, 9][r]!, (c, h, w) => code(r, c, h, w)))));
    const d = loadCifar10(file, 'train', 'data.train');
    expect(d.count).toBe(3);
    expect(d.sampleShape).toEqual([3, 32, 32]);
    expect(d.x).toBeInstanceOf(Uint8Array);
    expect(d.x.length).toBe(3 * 3072);
    expect(Array.from(d.labels)).toEqual([7, 0, 9]);
    // Spot checks written out by hand: record 1, green plane (c = 1), row 2, column 5.
    expect(d.x[1 * 3072 + 1 * 1024 + 2 * 32 + 5]).toBe((101 + 67 + 14 + 5) % 256);
    // Record 2, blue plane, last row and column.
    expect(d.x[2 * 3072 + 2 * 1024 + 31 * 32 + 31]).toBe((202 + 134 + 217 + 31) % 256);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        for (let h = 0; h < 32; h++) {
          for (let w = 0; w < 32; w++) {
            if (d.x[r * 3072 + c * 1024 + h * 32 + w] !== code(r, c, h, w)) throw new Error(`pixel (${r}, ${c}, ${h}, ${w}) is misplaced`);
          }
        }
      }
    }
  });

  it('reads a folder: the five data batches in order for train, test_batch.bin for test', () => {
    const dir = path.join(tmp.dir, 'folder');
    writeCifar10Folder(dir, 3, 4);
    const train = loadCifar10(dir, 'train', 'data.train');
    expect(train.count).toBe(15);
    // writeCifar10Folder numbers records across files, label = record number mod 10.
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4]);
    expect(train.x[5 * 3072]).toBe(20 * 5);
    const test = loadCifar10(dir, 'test', 'data.test');
    expect(test.count).toBe(4);
    expect(Array.from(test.labels)).toEqual([5, 6, 7, 8]);
  });

  it('defaults the split by role, and asks a validation spec to choose', () => {
    const dir = path.join(tmp.dir, 'roles');
    writeCifar10Folder(dir, 2, 5);
    expect(loadDataset({ format: 'cifar10', path: dir }, 'data.train', 1).data.count).toBe(10);
    expect(loadDataset({ format: 'cifar10', path: dir }, 'data.test', 1).data.count).toBe(5);
    expect(loadDataset({ format: 'cifar10', path: dir, split: 'test' }, 'data.train', 1).data.count).toBe(5);
    const err = inputErrorOf(() => loadDataset({ format: 'cifar10', path: dir }, 'data.validation', 1));
    expect(err.message).toMatch(/split: test/);
  });

  it('rejects a file that is not a whole number of 3073-byte records, saying its size', () => {
    const file = tmp.write('cut.bin', Buffer.concat([cifar10Record(1, () => 0), Buffer.alloc(100)]));
    const err = inputErrorOf(() => loadCifar10(file, 'train', 'data.train'));
    expect(err.file).toBe(file);
    expect(err.message).toContain('3173 bytes');
    expect(err.message).toContain('3073-byte');
    expect(err.message).toContain('100 bytes over');
  });

  it('rejects a label byte above 9, naming the record', () => {
    const file = tmp.write('label.bin', Buffer.concat([cifar10Record(3, () => 0), cifar10Record(10, () => 0)]));
    const err = inputErrorOf(() => loadCifar10(file, 'train', 'data.train'));
    expect(err.file).toBe(file);
    expect(err.message).toMatch(/record 1 .*label byte 10/);
  });

  it('rejects an empty batch file', () => {
    const file = tmp.write('empty.bin', '');
    expect(inputErrorOf(() => loadCifar10(file, 'train', 'data.train')).message).toMatch(/empty/);
  });

  it('names the expected files when the folder or a batch is missing', () => {
    const gone = path.join(tmp.dir, 'no-such-folder');
    const err = inputErrorOf(() => loadCifar10(gone, 'train', 'data.train'));
    expect(err.file).toBe(gone);
    expect(err.message).toContain('cifar-10-binary.tar.gz');

    const dir = path.join(tmp.dir, 'partial');
    writeCifar10Folder(dir, 1, 1);
    rmSync(path.join(dir, 'data_batch_3.bin'));
    const missing = inputErrorOf(() => loadCifar10(dir, 'train', 'data.train'));
    expect(missing.message).toContain('data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin');
    expect(missing.message).toMatch(/but data_batch_3\.bin is missing/);
    expect(loadCifar10(dir, 'test', 'data.test').count).toBe(1);
  });

  it('refuses /dev/zero, a pipe or a folder as a batch file at once, naming it', () => {
    const device = inputErrorOf(() => loadCifar10('/dev/zero', 'train', 'data.train'));
    expect(device.file).toBe('/dev/zero');
    expect(device.message).toContain('this is not a regular file (a device, pipe or socket), so it cannot be a CIFAR-10 batch file');

    const dir = writeCifar10Folder(path.join(tmp.dir, 'odd-files'), 1, 1);
    rmSync(path.join(dir, 'data_batch_2.bin'));
    const pipe = fifo(dir, 'data_batch_2.bin');
    const piped = inputErrorOf(() => loadCifar10(dir, 'train', 'data.train'));
    expect(piped.file).toBe(pipe);
    expect(piped.message).toContain('so it cannot be a CIFAR-10 batch file');

    rmSync(path.join(dir, 'test_batch.bin'));
    mkdirSync(path.join(dir, 'test_batch.bin'));
    const folder = inputErrorOf(() => loadCifar10(dir, 'test', 'data.test'));
    expect(folder.file).toBe(path.join(dir, 'test_batch.bin'));
    expect(folder.message).toContain('this is a folder, not a CIFAR-10 batch file');
  });

  it('refuses a batch file over 1 GiB before reading it', () => {
    const huge = sparseFile(tmp.dir, 'huge.bin', 1024 ** 3 + 1);
    const err = inputErrorOf(() => loadCifar10(huge, 'train', 'data.train'));
    expect(err.file).toBe(huge);
    expect(err.message).toContain('more than the 1024.0 MiB dlt reads as a CIFAR-10 batch file; a CIFAR-10 batch is 30,730,000 bytes');
  });

  it('points at cifar-10-batches-bin when given the folder it was extracted into', () => {
    const outer = path.join(tmp.dir, 'extracted');
    writeCifar10Folder(path.join(outer, 'cifar-10-batches-bin'), 1, 1);
    expect(inputErrorOf(() => loadCifar10(outer, 'test', 'data.test')).message).toContain(path.join(outer, 'cifar-10-batches-bin'));
  });
});

describe('dlt train with format: cifar10', () => {
  const dir = writeCifar10Folder(path.join(tmp.dir, 'cli-data'), 20, 30);
  const config = (input = '[3, 32, 32]'): string =>
    tmp.write(
      'cifar.yaml',
      [
        'name: tiny-cifar',
        'data:',
        `  train: {format: cifar10, path: ${path.relative(tmp.dir, dir)}}`,
        `  test: {format: cifar10, path: ${path.relative(tmp.dir, dir)}}`,
        '  preprocess: {scale: 255}',
        'model:',
        `  input: ${input}`,
        '  layers: [flatten, {type: dense, units: 10, init: {type: gaussian, std: 0.001}}]',
        'optimizer: {type: adam, lr: 0.01}',
        'training: {epochs: 1, batch_size: 10}',
      ].join('\n'),
    );

  it('trains on generated batches, resolving the path and writing the default split into config.yaml', () => {
    const r = dlt(['train', config(), '--out', path.join(tmp.dir, 'runs')], tmp.dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runDir = r.stdout.split('\n')[0]!;
    expect(r.stdout).toContain('data: 100 train, 30 test');
    const resolved = parseYaml(readFileSync(path.join(runDir, 'config.yaml'), 'utf8'));
    expect(resolved.data.train).toEqual({ format: 'cifar10', path: dir, split: 'train' });
    expect(resolved.data.test).toEqual({ format: 'cifar10', path: dir, split: 'test' });
    expect(existsSync(path.join(runDir, 'best.safetensors')) || existsSync(path.join(runDir, 'snapshots', 'latest.safetensors'))).toBe(true);
    const evaluated = dlt(['eval', runDir, '--json'], tmp.dir);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).samples).toBe(30);
  });

  it('says which model.input the images need', () => {
    const message = expectInputError(dlt(['train', config('[1, 32, 32]'), '--out', path.join(tmp.dir, 'runs')], tmp.dir));
    expect(message).toContain('set model.input: [3, 32, 32]');
  });

  it('exits 2 with the size when a batch file is damaged', () => {
    const broken = writeCifar10Folder(path.join(tmp.dir, 'broken'), 2, 2);
    writeFileSync(path.join(broken, 'data_batch_4.bin'), Buffer.alloc(5000));
    const file = tmp.write('broken.yaml', readFileSync(config(), 'utf8').replaceAll(path.relative(tmp.dir, dir), 'broken'));
    const message = expectInputError(dlt(['train', file, '--out', path.join(tmp.dir, 'runs')], tmp.dir));
    expect(message).toContain('data_batch_4.bin');
    expect(message).toContain('5000 bytes');
  });
});
