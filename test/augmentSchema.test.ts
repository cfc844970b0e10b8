// data.augment in the config language (src/config/augmentSchema.ts): defaults, the
// bare-name shorthand, and every way to get it wrong — exit 2 with file:line:col.
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { dlt, expectInputError, tempDir } from './support/cli.js';

const tmp = tempDir('dlt-augment-schema-');
afterAll(() => tmp.cleanup());

/** A config on [1, 4, 6] images (or `input`) with `augment` as data.augment's lines. */
function config(augment: string, input = '[1, 4, 6]'): string {
  return `name: aug
data:
  train: {format: xor, points: 40}
  augment:
${augment}
model:
  input: ${input}
  layers: [flatten, {type: dense, units: 2}]
optimizer: {type: sgd, lr: 0.1}
`;
}

/** `dlt train` of `text`: exit 2, and its message. */
function refused(text: string, extra: string[] = []): string {
  const file = tmp.write('cfg.yaml', text);
  return expectInputError(dlt(['train', file, '--out', tmp.dir, ...extra], tmp.dir));
}

describe('data.augment', () => {
  it('fills the defaults and takes a bare name for a transform without options', () => {
    const c = parseConfig(config('    - random_crop\n    - hflip\n    - {type: random_translate}\n    - gaussian_noise'), 'cfg.yaml');
    expect(c.data.augment).toEqual([
      { type: 'random_crop', padding: 4 },
      { type: 'hflip', p: 0.5 },
      { type: 'random_translate', pixels: 2 },
      { type: 'gaussian_noise', std: 0.05 },
    ]);
  });

  it('is absent from a config that does not augment (its resolved config is unchanged)', () => {
    const c = parseConfig(config('    - hflip').replace('  augment:\n    - hflip\n', ''), 'cfg.yaml');
    expect(c.data).not.toHaveProperty('augment');
  });

  it('allows gaussian_noise on vector inputs, and p at both ends of [0, 1]', () => {
    expect(parseConfig(config('    - {type: gaussian_noise, std: 0.2}', '[2]'), 'cfg.yaml').data.augment).toEqual([
      { type: 'gaussian_noise', std: 0.2 },
    ]);
    expect(parseConfig(config('    - {type: hflip, p: 0}\n    - {type: hflip, p: 1}'), 'cfg.yaml').data.augment).toEqual([
      { type: 'hflip', p: 0 },
      { type: 'hflip', p: 1 },
    ]);
  });

  it('an unknown transform gets a did-you-mean and the list of transforms', () => {
    const stderr = refused(config('    - hflip\n    - {type: random_crp, padding: 2}'));
    expect(stderr).toContain('cfg.yaml:6:14: data.augment.1.type: unknown type "random_crp"; did you mean "random_crop"?');
    expect(stderr).toContain('Choose one of random_crop, hflip, random_translate, gaussian_noise.');
  });

  it('a misspelt bare name and a misspelt option get a did-you-mean', () => {
    expect(refused(config('    - hflp'))).toContain('cfg.yaml:5:7: data.augment.0.type: unknown type "hflp"; did you mean "hflip"?');
    expect(refused(config('    - {type: random_crop, pading: 2}'))).toContain(
      'cfg.yaml:5:27: data.augment.0.pading: unknown key "pading"; did you mean "padding"? Allowed keys: type, padding.',
    );
  });

  it('an image transform on vector inputs names the transform and the shape', () => {
    for (const type of ['random_crop', 'hflip', 'random_translate']) {
      const stderr = refused(config(`    - gaussian_noise\n    - ${type}`, '[4]'));
      expect(stderr).toContain(`cfg.yaml:6:7: data.augment.1: ${type} needs image inputs [C, H, W] but model.input is [4]`);
    }
  });

  it('refuses p outside [0, 1], a padding or shift below 1 or beyond the image, and std ≤ 0', () => {
    expect(refused(config('    - {type: hflip, p: 1.5}'))).toContain('cfg.yaml:5:24: data.augment.0.p: must be ≤ 1 (a probability), got 1.5');
    expect(refused(config('    - {type: hflip, p: -0.1}'))).toContain('cfg.yaml:5:24: data.augment.0.p: must be ≥ 0 (a probability), got -0.1');
    expect(refused(config('    - {type: random_crop, padding: -2}'))).toContain('cfg.yaml:5:36: data.augment.0.padding: must be at least 1');
    expect(refused(config('    - {type: random_crop, padding: 1.5}'))).toContain('cfg.yaml:5:36: data.augment.0.padding: expected int, got 1.5');
    expect(refused(config('    - {type: random_translate, pixels: 0}'))).toContain('cfg.yaml:5:40: data.augment.0.pixels: must be at least 1');
    expect(refused(config('    - {type: random_translate, pixels: 7}'))).toContain(
      'cfg.yaml:5:40: data.augment.0.pixels: must be at most 6, the larger side of the 1×4×6 input',
    );
    expect(refused(config('    - {type: gaussian_noise, std: -0.05}'))).toContain('cfg.yaml:5:35: data.augment.0.std: must be > 0, got -0.05');
    expect(refused(config('    - {type: gaussian_noise, std: 0}'))).toContain('cfg.yaml:5:35: data.augment.0.std: must be > 0, got 0');
  });

  it('is checked the same way through --set', () => {
    const file = tmp.write('plain.yaml', config('    - {type: hflip}'));
    const r = dlt(['train', file, '--out', tmp.dir, '--set', 'data.augment.0.p=2'], tmp.dir);
    expect(expectInputError(r)).toContain('--set data.augment.0.p=2: data.augment.0.p: must be ≤ 1');
    const vector = tmp.write('vector.yaml', config('    - gaussian_noise', '[4]'));
    const v = dlt(['train', vector, '--out', tmp.dir, '--set', 'data.augment=[hflip]'], tmp.dir);
    expect(expectInputError(v)).toContain('data.augment.0: hflip needs image inputs [C, H, W] but model.input is [4]');
  });
});
