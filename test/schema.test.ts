/**
 * `dlt schema`: the JSON Schema generated from the zod config schema. The committed copy
 * must equal the command's output, every shipped config must point at it and pass it,
 * and it must reject what dlt rejects (misspelt keys, wrong types) — checked with the
 * small validator in test/support/jsonSchema.ts, and against zod itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { configJsonSchema, SCHEMA_FILE, SWEEP_SCHEMA_FILE, schemaCommand, sweepJsonSchema, sweepSchemaCommand } from '../src/cli/commands/schema.js';
import { configSchema } from '../src/config/schema.js';
import { dlt, repoRoot } from './support/cli.js';
import { validate } from './support/jsonSchema.js';

const MODELINE = '# yaml-language-server: $schema=../schema/dlt-config.schema.json';
const configsDir = path.join(repoRoot, 'configs');
const configFiles = readdirSync(configsDir)
  .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
  .sort();
const schema = configJsonSchema();

type Json = Record<string, unknown>;

/** A small valid config to misspell; built fresh for each case. */
function base(): Json {
  return {
    name: 'tiny',
    data: { train: { format: 'xor', points: 40 }, validation: { fraction: 0.25 } },
    model: { input: [2], layers: [{ type: 'dense', units: 4 }, 'tanh', { type: 'dense', units: 2, init: 'xavier' }] },
    optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 },
    training: { epochs: 2, batch_size: 8 },
  };
}

/** `base()` changed by `edit`. */
function variant(edit: (c: Json & { data: Json; model: { layers: unknown[] } & Json; optimizer: Json; training: Json }) => void): Json {
  const c = base() as Parameters<typeof edit>[0];
  edit(c);
  return c;
}

describe('dlt schema', () => {
  it('prints the schema on stdout with exit 0, equal to the committed file', () => {
    const r = dlt(['schema'], repoRoot);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const committed = readFileSync(path.join(repoRoot, SCHEMA_FILE), 'utf8');
    expect(r.stdout).toBe(schemaCommand());
    expect(committed, `${SCHEMA_FILE} is stale (src/config/schema.ts changed): run  npx dlt schema > ${SCHEMA_FILE}  (after npm run build)`).toBe(
      schemaCommand(),
    );
  });

  it('takes no arguments: one is bad usage, exit 2', () => {
    const r = dlt(['schema', 'configs/xor.yaml'], repoRoot);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/too many arguments/);
  });

  it('is a draft-07 schema of strict objects: every object rejects keys it does not list', () => {
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const loose: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) walk(n, `${at}[${i}]`);
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      const o = node as Json;
      if (o.type === 'object' && o.additionalProperties !== false) loose.push(at);
      for (const [k, v] of Object.entries(o)) if (k !== 'default' && k !== 'const' && k !== 'enum') walk(v, `${at}.${k}`);
    };
    walk(schema, '$');
    expect(loose).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
  });

  it('has every default it declares accepted by the schema at that place (the zod defaults are valid input)', () => {
    const checked: string[] = [];
    const walk = (node: unknown, at: string) => {
      if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) walk(n, `${at}[${i}]`);
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      const o = node as Json;
      if ('default' in o) {
        const { default: value, ...rest } = o;
        expect(validate({ ...rest, definitions: schema.definitions }, value), `default at ${at}`).toEqual([]);
        checked.push(at);
      }
      for (const [k, v] of Object.entries(o)) if (k !== 'default' && k !== 'const' && k !== 'enum') walk(v, `${at}.${k}`);
    };
    walk(schema, '$');
    // e.g. init: "kaiming" and loss: "softmax_cross_entropy", bare names that only the
    // preprocessing makes valid
    expect(checked.length).toBeGreaterThan(20);
  });
});

describe('configs/', () => {
  it('has configs to check', () => {
    expect(configFiles.length).toBeGreaterThanOrEqual(10);
  });

  it.each(configFiles)('%s starts with the yaml-language-server line pointing at the schema', (f) => {
    const first = readFileSync(path.join(configsDir, f), 'utf8').split('\n')[0];
    expect(first, `add this first line to configs/${f}:\n${MODELINE}`).toBe(MODELINE);
    // and the path it names is the committed schema
    expect(path.resolve(configsDir, MODELINE.split('$schema=')[1]!)).toBe(path.join(repoRoot, SCHEMA_FILE));
  });

  it.each(configFiles)('%s is accepted by the schema', (f) => {
    const config = parseYaml(readFileSync(path.join(configsDir, f), 'utf8'));
    expect(validate(schema, config)).toEqual([]);
  });
});

describe('the schema rejects what dlt rejects', () => {
  const rejected: [string, Json, RegExp][] = [
    ['a misspelt top-level key', variant((c) => (c.trainig = { epochs: 3 })), /unknown key "trainig"/],
    ['optimizer.momentun', variant((c) => (c.optimizer = { type: 'sgd', lr: 0.1, momentun: 0.9 })), /momentun/],
    ['a misspelt layer key', variant((c) => (c.model.layers[0] = { type: 'dense', unit: 4 })), /unit/],
    ['a misspelt key in a dataset', variant((c) => (c.data.train = { format: 'xor', pionts: 40 })), /pionts/],
    ['a misspelt key in an init', variant((c) => (c.model.layers[2] = { type: 'dense', units: 2, init: { type: 'gaussian', sdt: 0.1 } })), /sdt/],
    ['training.batchsize', variant((c) => (c.training.batchsize = 8)), /batchsize/],
    ['a key of another optimiser (beta1 on sgd)', variant((c) => (c.optimizer.beta1 = 0.9)), /beta1/],
    ['epochs as a string', variant((c) => (c.training.epochs = 'ten')), /\$\.training\.epochs: expected integer/],
    ['epochs not whole', variant((c) => (c.training.epochs = 1.5)), /expected integer/],
    ['epochs 0', variant((c) => (c.training.epochs = 0)), /minimum 1/],
    ['a negative learning rate', variant((c) => (c.optimizer.lr = -0.1)), /exclusiveMinimum 0/],
    ['model.input not a list', variant((c) => (c.model.input = 2)), /expected array/],
    ['model.input of four sizes', variant((c) => (c.model.input = [1, 2, 3, 4])), /more than 3 items/],
    ['an unknown layer type', variant((c) => c.model.layers.push('softmax')), /\$\.model\.layers\[3\]/],
    ['a bare layer name that needs options (maxpool2d needs size)', variant((c) => c.model.layers.push('maxpool2d')), /layers\[3\]/],
    ['a bare dense layer (units required)', variant((c) => (c.model.layers[0] = 'dense')), /layers\[0\]/],
    ['an unknown loss', variant((c) => (c.loss = 'softmax')), /\$\.loss/],
    ['on_nan: continue', variant((c) => (c.training.on_nan = 'continue')), /on_nan/],
    ['dropout rate 1', variant((c) => c.model.layers.push({ type: 'dropout', rate: 1 })), /rate/],
    ['no optimizer', variant((c) => delete (c as Json).optimizer), /missing required key "optimizer"/],
    ['a run name with a slash', variant((c) => (c.name = 'a/b')), /does not match/],
  ];

  it.each(rejected)('%s', (_what, config, message) => {
    const problems = validate(schema, config);
    expect(problems.join('\n')).toMatch(message);
    // and zod, which dlt train uses, rejects it too
    expect(configSchema.safeParse(config).success).toBe(false);
  });

  const accepted: [string, Json][] = [
    ['the base config', base()],
    [
      'bare names for layers, init, loss, schedule',
      variant((c) => {
        c.model.layers.push('relu', 'dropout', 'prelu');
        c.model.layers[0] = { type: 'dense', units: 4, init: 'kaiming', bias_init: 'zeros' };
        c.loss = 'multiclass_hinge';
        c.schedule = 'constant';
      }),
    ],
    [
      'the object forms',
      variant((c) => {
        c.model.layers.push({ type: 'relu' }, { type: 'leaky_relu', alpha: 0.1 });
        c.loss = { type: 'multiclass_hinge', margin: 2 };
        c.schedule = { type: 'step', every: 2, factor: 0.5 };
      }),
    ],
    [
      'a pooling layer without stride (it defaults to size)',
      variant((c) => {
        c.model.input = [1, 4, 4];
        c.model.layers = [
          { type: 'conv2d', filters: 2, kernel: 3, padding: 'same' },
          { type: 'maxpool2d', size: 2 },
          'flatten',
          { type: 'dense', units: 2 },
        ];
      }),
    ],
    [
      'padding as a number',
      variant((c) => {
        c.model.input = [1, 4, 4];
        c.model.layers = [
          { type: 'conv2d', filters: 2, kernel: 3, padding: 1 },
          { type: 'avgpool2d', size: 2, stride: 1 },
          'flatten',
          { type: 'dense', units: 2 },
        ];
      }),
    ],
    ['a validation split given as a dataset', variant((c) => (c.data.validation = { format: 'xor', points: 10 }))],
  ];

  it.each(accepted)('accepts %s', (_what, config) => {
    expect(validate(schema, config)).toEqual([]);
    expect(configSchema.safeParse(config).success).toBe(true);
  });
});

describe('the test validator', () => {
  it('refuses a keyword it does not implement rather than ignore it', () => {
    expect(() => validate({ type: 'object', patternProperties: {} }, {})).toThrow(/patternProperties/);
  });

  it('checks oneOf as exactly one, anyOf as at least one, and follows $ref', () => {
    const s = { definitions: { n: { type: 'number' } }, oneOf: [{ $ref: '#/definitions/n' }, { type: 'integer' }] };
    expect(validate(s, 1.5)).toEqual([]);
    expect(validate(s, 2).join()).toMatch(/matches 2 branches/);
    expect(validate({ anyOf: [{ type: 'number' }, { type: 'integer' }] }, 2)).toEqual([]);
    expect(validate({ anyOf: [{ type: 'string' }, { const: 3 }] }, 2).join()).toMatch(/none of anyOf/);
  });
});

describe('dlt schema --sweep and configs/sweeps/', () => {
  const sweepsDir = path.join(configsDir, 'sweeps');
  const sweepFiles = readdirSync(sweepsDir).filter((f) => f.endsWith('.yaml'));
  const sweepModeline = '# yaml-language-server: $schema=../../schema/dlt-sweep.schema.json';

  it('prints the sweep file schema, equal to the committed file', () => {
    const r = dlt(['schema', '--sweep'], repoRoot);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(sweepSchemaCommand());
    expect(
      readFileSync(path.join(repoRoot, SWEEP_SCHEMA_FILE), 'utf8'),
      `${SWEEP_SCHEMA_FILE} is stale: run  npx dlt schema --sweep > ${SWEEP_SCHEMA_FILE}`,
    ).toBe(sweepSchemaCommand());
  });

  it('rejects a misspelt key, a metric dlt never ranks by, and an empty parameter list', () => {
    const good = { base: 'x.yaml', parameters: { 'optimizer.lr': { values: [0.1] } } };
    const sweepSchema = sweepJsonSchema();
    expect(validate(sweepSchema, good)).toEqual([]);
    expect(validate(sweepSchema, { ...good, paramters: {} })).not.toEqual([]);
    expect(validate(sweepSchema, { ...good, metric: { name: 'test_accuracy' } })).not.toEqual([]);
    expect(validate(sweepSchema, { ...good, parameters: { 'optimizer.lr': { values: [] } } })).not.toEqual([]);
  });

  it.each(sweepFiles)('%s starts with the yaml-language-server line, passes the schema, and its base is a shipped config', (f) => {
    const text = readFileSync(path.join(sweepsDir, f), 'utf8');
    expect(text.split('\n')[0]).toBe(sweepModeline);
    expect(path.resolve(sweepsDir, sweepModeline.split('$schema=')[1]!)).toBe(path.join(repoRoot, SWEEP_SCHEMA_FILE));
    const sweep = parseYaml(text) as { base: string };
    expect(validate(sweepJsonSchema(), sweep)).toEqual([]);
    expect(configFiles).toContain(path.relative(configsDir, path.resolve(sweepsDir, sweep.base)));
  });
});
