import { afterAll, describe, expect, it } from 'vitest';
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

/** The InputError that parsing `good` with `overrides` throws, formatted as the CLI prints it. */
function problem(overrides: string[]): string {
  try {
    parseConfig(good, 'cfg.yaml', overrides);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err instanceof InputError ? err.format() : '';
  }
  throw new Error('expected the override to be rejected');
}

const tmp = tempDir('dlt-overrides-');
afterAll(() => tmp.cleanup());

describe('--set list indices', () => {
  it('sets an item of a list by its index, and appends at index = length', () => {
    expect(parseConfig(good, 'cfg.yaml', ['model.layers.2.units=5']).model.layers[2]).toMatchObject({ type: 'dense', units: 5 });
    const appended = parseConfig(good, 'cfg.yaml', ['model.layers.3=relu']).model.layers;
    expect(appended).toHaveLength(4);
    expect(appended[3]).toEqual({ type: 'relu' });
    expect(parseConfig(good, 'cfg.yaml', ['model.input.0=3']).model.input).toEqual([3]);
  });

  it('refuses an index past the end, saying which indices the list has', () => {
    expect(problem(['model.layers.4.units=3'])).toBe(
      '--set model.layers.4.units=3: model.layers is a list of 3 items; use an index from 0 to 3 (3 appends)',
    );
    expect(problem(['model.input.7=1'])).toBe('--set model.input.7=1: model.input is a list of 1 item; use an index from 0 to 1 (1 appends)');
  });

  it('refuses an index not written in digits (1e1, -1, 0x1, a name)', () => {
    for (const index of ['1e1', '-1', '0x1', 'first', ' 1']) {
      expect(problem([`model.layers.${index}.units=3`])).toBe(
        `--set model.layers.${index}.units=3: model.layers is a list of 3 items; use an index from 0 to 3 (3 appends)`,
      );
    }
  });

  it('checks the index of every override, not only the first', () => {
    expect(problem(['model.layers.0.units=4', 'model.layers.99=relu'])).toContain('model.layers is a list of 3 items');
  });

  it('refuses --set model.layers.1e9.units=3 at once, exit 2 (the YAML library would build a list of 10⁹ items)', () => {
    const config = tmp.write('c.yaml', good);
    const started = Date.now();
    const stderr = expectInputError(dlt(['train', config, '--set', 'model.layers.1e9.units=3'], tmp.dir));
    expect(stderr).toContain('--set model.layers.1e9.units=3: model.layers is a list of 3 items; use an index from 0 to 3 (3 appends)');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
