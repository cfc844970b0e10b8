import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { didYouMean } from '../src/config/didYouMean.js';
import { parseConfig } from '../src/config/load.js';
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
