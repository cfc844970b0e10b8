import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { didYouMean } from '../src/config/didYouMean.js';
import { loadConfig, loadModelConfig, parseConfig } from '../src/config/load.js';
import { InputError } from '../src/errors.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';

const good = `name: t
data:
  train: {format: spiral, classes: 3}
model:
  input: [2]
  layers:
    - {type: dense, units: 8}
    - relu
    - {type: dense, units: 3}
optimizer: {type: sgd, lr: 0.1}
`;

/** The InputError that parsing `text` throws, formatted as the CLI prints it. */
function problem(text: string, overrides: string[] = []): string {
  try {
    parseConfig(text, 'cfg.yaml', overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).format();
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('fills every default', () => {
    const c = parseConfig(good, 'cfg.yaml');
    expect(c.seed).toBe(1);
    expect(c.training).toMatchObject({ epochs: 10, batch_size: 64, shuffle: true, loss_window: 100, dtype: 'float32' });
    expect(c.optimizer).toEqual({ type: 'sgd', lr: 0.1, momentum: 0, nesterov: false });
    expect(c.model.layers[1]).toEqual({ type: 'relu' });
    expect(c.model.layers[0]).toEqual({ type: 'dense', units: 8, init: { type: 'kaiming' }, bias_init: { type: 'zeros' } });
    expect(c.loss).toEqual({ type: 'softmax_cross_entropy' });
    expect(c.data.train).toEqual({ format: 'spiral', classes: 3, points_per_class: 100, noise: 0.2 });
  });

  it('reports a YAML syntax error with line:col', () => {
    expect(problem('name: t\nmodel:\n  input: [2\n')).toMatch(/^cfg\.yaml:\d+:\d+: YAML syntax error/);
    expect(problem('a: 1\n  b: 2\n')).toMatch(/^cfg\.yaml:1:4: YAML syntax error: Nested mappings/);
  });

  it('names an unknown key at its position, with a did-you-mean', () => {
    const msg = problem(good.replace('lr: 0.1', 'lr: 0.1, momentun: 0.9'));
    expect(msg).toContain('cfg.yaml:10:');
    expect(msg).toContain('optimizer.momentun: unknown key "momentun"; did you mean "momentum"?');
    expect(problem(`${good}trainig: {epochs: 2}\n`)).toContain('cfg.yaml:11:1: trainig: unknown key "trainig"; did you mean "training"?');
  });

  it('suggests layer types', () => {
    expect(problem(good.replace('- relu', '- rleu'))).toMatch(/cfg\.yaml:8:7: model\.layers\.1\.type: unknown type "rleu"; did you mean "relu"\?/);
  });

  it('rejects a wrong type', () => {
    expect(problem(good.replace('lr: 0.1', 'lr: fast'))).toContain('cfg.yaml:10:28: optimizer.lr: expected a number, got "fast"');
    expect(problem(good.replace('units: 8', 'units: [8]'))).toContain('model.layers.0.units: expected');
  });

  it('rejects a negative learning rate', () => {
    expect(problem(good.replace('lr: 0.1', 'lr: -0.1'))).toContain('cfg.yaml:10:28: optimizer.lr: must be > 0, got -0.1');
  });

  it('rejects batch size 0', () => {
    expect(problem(`${good}training: {batch_size: 0}\n`)).toContain('cfg.yaml:11:24: training.batch_size: must be at least 1, got 0');
  });

  it('rejects a non-positive input size', () => {
    expect(problem(good.replace('input: [2]', 'input: [0]'))).toContain('cfg.yaml:5:11: model.input.0: must be at least 1, got 0');
    expect(problem(good.replace('input: [2]', 'input: [1, -28, 28]'))).toContain('model.input.1: must be at least 1, got -28');
  });

  it('rejects an empty config', () => {
    expect(problem('')).toContain('the config is empty');
    expect(problem('# only a comment\n')).toContain('the config is empty');
  });

  it('refuses a YAML alias bomb without expanding it', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      bomb.push(`${next}: &${next} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`);
    }
    const started = Date.now();
    expect(problem(`${bomb.join('\n')}\n`)).toContain('aliases');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('applies --set overrides, parsed as YAML and validated like the file', () => {
    const c = parseConfig(good, 'cfg.yaml', ['optimizer.lr=0.01', 'model.layers.0.units=16', 'training.epochs=3']);
    expect(c.optimizer.lr).toBe(0.01);
    expect(c.model.layers[0]).toMatchObject({ units: 16 });
    expect(c.training.epochs).toBe(3);
    expect(problem(good, ['optimizer.lr=-1'])).toContain('--set optimizer.lr=-1: optimizer.lr: must be > 0, got -1');
    expect(problem(good, ['optimizer.lrr=1'])).toContain('did you mean "lr"?');
    expect(problem(good, ['nonsense'])).toContain('expected key.path=value');
  });

  it('lists every problem, each with its own position', () => {
    const msg = problem(good.replace('lr: 0.1', 'lr: 0').replace('units: 8', 'units: 0'));
    expect(msg.split('\n')).toHaveLength(2);
  });
});

describe('YAML merge keys', () => {
  const shared = `name: t
data:
  train: {format: spiral, classes: 3}
model:
  input: [2]
  layers:
    - <<: &dense {type: dense, init: xavier}
      units: 8
    - relu
    - <<: *dense
      units: 3
optimizer: {type: sgd, lr: 0.1}
`;

  it("merge a shared mapping into layers (<<: *dense), the layer's own keys winning", () => {
    const layers = parseConfig(shared, 'cfg.yaml').model.layers;
    expect(layers).toEqual([
      { type: 'dense', units: 8, init: { type: 'xavier' }, bias_init: { type: 'zeros' } },
      { type: 'relu' },
      { type: 'dense', units: 3, init: { type: 'xavier' }, bias_init: { type: 'zeros' } },
    ]);
    const own = parseConfig(shared.replace('units: 3', 'units: 3\n      init: zeros'), 'cfg.yaml').model.layers[2];
    expect(own).toMatchObject({ units: 3, init: { type: 'zeros' } });
    const list = parseConfig(shared.replace('<<: *dense', '<<: [{units: 5, init: zeros}, *dense]'), 'cfg.yaml').model.layers[2];
    expect(list).toMatchObject({ units: 3, init: { type: 'zeros' } });
  });

  it('point an error in a merged mapping at where the key is written, for every layer that merges it', () => {
    const lines = problem(shared.replace('init: xavier}', 'init: xavier, unitz: 3}')).split('\n');
    expect(lines).toEqual([
      'cfg.yaml:7:46: model.layers.0.unitz: unknown key "unitz"; did you mean "units"? Allowed keys: type, units, init, bias_init.',
      'cfg.yaml:7:46: model.layers.2.unitz: unknown key "unitz"; did you mean "units"? Allowed keys: type, units, init, bias_init.',
    ]);
    expect(problem(shared.replace('init: xavier}', 'init: xavir}'))).toContain(
      'cfg.yaml:7:38: model.layers.2.init.type: unknown type "xavir"; did you mean "xavier"?',
    );
    // A key of the layer's own still points at the layer.
    expect(problem(shared.replace('units: 3', 'units: 0'))).toBe('cfg.yaml:11:14: model.layers.2.units: must be at least 1, got 0');
  });

  it('refuse a merge of something that is not a mapping, at its position', () => {
    expect(problem(shared.replace('<<: *dense', '<<: 5'))).toBe(
      'cfg.yaml:10:11: "<<" merges mappings into this one: give it a mapping, an alias of one (<<: *defaults) or a list of them (<<: [*a, *b])',
    );
  });
});

describe('reading a config file', () => {
  const tmp = tempDir('dlt-config-');
  afterAll(() => tmp.cleanup());

  it('refuses a key given twice in one mapping, at the second', () => {
    expect(problem(good.replace('lr: 0.1}', 'lr: 0.1, lr: 0.2}'))).toBe(
      'cfg.yaml:10:33: the key "lr" is given twice in this mapping (first on line 10); keep one',
    );
  });

  it('checks for keys given twice in linear time: a mapping of 40,000 keys takes seconds, not minutes', () => {
    const keys = Array.from({ length: 40_000 }, (_, k) => `  k${k}: 1\n`).join('');
    const started = Date.now();
    expect(problem(`${good}training:\n${keys}`)).toContain('training.k0: unknown key "k0" (also: k1, k2');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('refuses a config over 512 KiB before reading it', () => {
    const big = tmp.write('big.yaml', `${good}${'# padding\n'.repeat(60_000)}`);
    const stderr = expectInputError(dlt(['train', big], tmp.dir));
    expect(stderr).toContain(`${big}: the file is 600`);
    expect(stderr).toContain('more than the 524288 bytes dlt reads as a YAML config; a config is a few kilobytes');
  });

  it('refuses a device or a folder given as the config, at once', () => {
    for (const read of [loadConfig, loadModelConfig]) {
      expect(() => read('/dev/zero')).toThrow(/not a regular file \(a device, pipe or socket\), so it cannot be a YAML config/);
      expect(() => read(tmp.dir)).toThrow(/this is a folder, not a YAML config/);
      expect(() => read(path.join(tmp.dir, 'nope.yaml'))).toThrow(/config file not found/);
    }
  });
});

describe('the run name', () => {
  const tmp = tempDir('dlt-config-');
  afterAll(() => tmp.cleanup());

  it('may have 200 characters', () => {
    expect(parseConfig(good.replace('name: t', `name: ${'n'.repeat(200)}`), 'cfg.yaml').name).toHaveLength(200);
  });

  it('may not have more: the run folder <name>-<YYYYMMDD-HHMMSS> must fit a 255-byte file name', () => {
    expect(problem(good.replace('name: t', `name: ${'n'.repeat(201)}`))).toBe(
      'cfg.yaml:1:7: name: must be at most 200 characters (it names the run folder, <name>-<YYYYMMDD-HHMMSS>, and file names are limited to 255 bytes), ' +
        `got "${'n'.repeat(40)}…" (201 characters)`,
    );
  });

  it('is refused by dlt train with exit 2 before any data is read', () => {
    const config = tmp.write(
      'long.yaml',
      good
        .replace('name: t', `name: ${'x'.repeat(300)}`)
        .replace('{format: spiral, classes: 3}', '{format: idx, images: missing-images, labels: missing-labels}'),
    );
    const stderr = expectInputError(dlt(['train', config, '--out', 'runs'], tmp.dir));
    expect(stderr).toContain(`${config}:1:7: name: must be at most 200 characters`);
    expect(stderr).not.toContain('missing-images');
    expect(existsSync(path.join(tmp.dir, 'runs'))).toBe(false);
  });
});

describe('didYouMean', () => {
  it('finds close words and refuses distant ones', () => {
    expect(didYouMean('momentun', ['lr', 'momentum', 'nesterov'])).toBe('momentum');
    expect(didYouMean('batchsize', ['batch_size', 'epochs'])).toBe('batch_size');
    expect(didYouMean('zzz', ['lr', 'momentum'])).toBeUndefined();
  });
});
