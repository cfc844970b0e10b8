import { z } from 'zod';
import { augmentIssues } from './augmentSchema.js';
import { classWeightsSpec } from './classWeights.js';
import { data } from './dataSchema.js';
import { isRecord } from './keyPath.js';
import { nonNegativeInt, positive, positiveInt, typed, unitInterval } from './schemaPrimitives.js';

/**
 * The config language of SPEC §3, as a zod schema (with the sections in dataSchema.ts,
 * augmentSchema.ts and classWeights.ts). Validation happens once, here, at the edge;
 * the rest of dlt trusts the parsed object. Every default lives in these files, so the
 * resolved config written into a run directory is exactly what ran.
 *
 * The parsed object keeps the YAML's snake_case keys: it *is* the user's language,
 * and the resolved config is written back from it unchanged.
 */

export { type DatasetSpec, datasetSpec, type FileSpec, fileSpec } from './dataSchema.js';

// ---------------------------------------------------------------- model

export const initSpec = typed(
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('zeros') }),
    z.strictObject({ type: z.literal('constant'), value: z.number().default(0) }),
    z.strictObject({ type: z.literal('gaussian'), std: positive.default(0.01) }),
    z.strictObject({ type: z.literal('uniform'), limit: positive.default(0.05) }),
    z.strictObject({ type: z.literal('xavier') }),
    z.strictObject({ type: z.literal('kaiming') }),
  ]),
);
export type InitSpec = z.infer<typeof initSpec>;

const dense = z.strictObject({
  type: z.literal('dense'),
  units: positiveInt,
  init: initSpec.prefault('kaiming'),
  bias_init: initSpec.prefault('zeros'),
});
const flatten = z.strictObject({ type: z.literal('flatten') });
const relu = z.strictObject({ type: z.literal('relu') });
const sigmoid = z.strictObject({ type: z.literal('sigmoid') });
const tanh = z.strictObject({ type: z.literal('tanh') });
const leakyRelu = z.strictObject({ type: z.literal('leaky_relu'), alpha: z.number().min(0).lt(1, { error: 'must be < 1' }).default(0.01) });
const prelu = z.strictObject({
  type: z.literal('prelu'),
  /** Initial slope for negative inputs (He et al. 2015 start at 0.25). */
  init: z.number().default(0.25),
  /** One alpha for the whole layer instead of one per channel (per unit for vectors). */
  shared: z.boolean().default(false),
});
const elu = z.strictObject({ type: z.literal('elu'), alpha: positive.default(1) });
const dropout = z.strictObject({ type: z.literal('dropout'), rate: unitInterval.default(0.5) });
const conv2d = z
  .strictObject({
    type: z.literal('conv2d'),
    filters: positiveInt,
    kernel: positiveInt,
    stride: positiveInt.default(1),
    /** `valid`: none; `same`: (k − 1)/2 on each side, keeping H×W (stride 1, odd k); N: N zeros on each side. */
    padding: z.union([z.enum(['valid', 'same']), nonNegativeInt], { error: 'expected valid, same or a whole number ≥ 0' }).default('valid'),
    init: initSpec.prefault('kaiming'),
    bias_init: initSpec.prefault('zeros'),
  })
  .superRefine((c, ctx) => {
    // `same` keeps H×W only for stride 1 and an odd kernel (symmetric padding). For stride > 1,
    // TensorFlow pads asymmetrically and PyTorch refuses; we refuse too, and say what to write.
    if (c.padding !== 'same') return;
    if (c.stride !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['padding'],
        message: `"same" needs stride 1 (got stride ${c.stride}); give the padding as a number instead, e.g. ${(c.kernel - 1) >> 1}`,
      });
    } else if (c.kernel % 2 === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['padding'],
        message: `"same" needs an odd kernel (got ${c.kernel}): an even kernel cannot be padded symmetrically; use an odd kernel or a number`,
      });
    }
  });
/** Pooling windows; `stride` defaults to `size` (filled in by layerSpec below). */
const pool2d = <T extends 'maxpool2d' | 'avgpool2d'>(type: T) => z.strictObject({ type: z.literal(type), size: positiveInt, stride: positiveInt });
const maxpool2d = pool2d('maxpool2d');
const avgpool2d = pool2d('avgpool2d');
const channelMaxpool = z.strictObject({ type: z.literal('channel_maxpool'), group: positiveInt });

/**
 * A bare string stands for `{type: <string>}`; a pooling layer without `stride` gets
 * stride = size (windows that tile the map, as PyTorch), written into the resolved config.
 */
function layerDefaults(v: unknown): unknown {
  if (typeof v === 'string') return { type: v };
  const pool = isRecord(v) && (v.type === 'maxpool2d' || v.type === 'avgpool2d');
  if (pool && v.stride === undefined && typeof v.size === 'number' && Number.isInteger(v.size) && v.size >= 1) return { ...v, stride: v.size };
  return v;
}

export const layerSpec = z.preprocess(
  layerDefaults,
  z.discriminatedUnion('type', [dense, conv2d, maxpool2d, avgpool2d, channelMaxpool, flatten, relu, sigmoid, tanh, leakyRelu, prelu, elu, dropout]),
);
export type LayerSpec = z.infer<typeof layerSpec>;

const model = z.strictObject({
  input: z
    .array(positiveInt, { error: 'expected a list of sizes: [C, H, W] for images or [D] for vectors' })
    .min(1, { error: 'give one size [D] or three [C, H, W]' })
    .max(3, { error: 'give one size [D] or three [C, H, W]' }),
  layers: z.array(layerSpec).min(1, { error: 'the model needs at least one layer' }),
});

// ---------------------------------------------------------------- objective and optimisation

export const lossSpec = typed(
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('softmax_cross_entropy'), class_weights: classWeightsSpec.optional() }),
    z.strictObject({ type: z.literal('multiclass_hinge'), margin: positive.default(1), class_weights: classWeightsSpec.optional() }),
    z.strictObject({ type: z.literal('squared') }),
    z.strictObject({ type: z.literal('absolute') }),
  ]),
);
export type LossSpec = z.infer<typeof lossSpec>;

const eps = (value: number) => positive.default(value);
const decayRate = z.number().gt(0, { error: 'must be > 0' }).lt(1, { error: 'must be < 1' });

export const optimizerSpec = typed(
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('sgd'), lr: positive, momentum: unitInterval.default(0), nesterov: z.boolean().default(false) }),
    z.strictObject({ type: z.literal('adagrad'), lr: positive, eps: eps(1e-10) }),
    z.strictObject({ type: z.literal('rmsprop'), lr: positive, decay: decayRate.default(0.9), eps: eps(1e-8) }),
    z.strictObject({ type: z.literal('adam'), lr: positive, beta1: decayRate.default(0.9), beta2: decayRate.default(0.999), eps: eps(1e-8) }),
  ]),
);
export type OptimizerSpec = z.infer<typeof optimizerSpec>;

const factor = z.number().gt(0, { error: 'must be > 0' }).lt(1, { error: 'must be < 1' }).default(0.1);

export const scheduleSpec = typed(
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('constant') }),
    z.strictObject({ type: z.literal('step'), every: positiveInt, factor }),
    z.strictObject({
      type: z.literal('multistep'),
      milestones: z
        .array(positiveInt)
        .min(1, { error: 'give at least one epoch' })
        .refine((m) => m.every((v, i) => i === 0 || v > m[i - 1]!), { error: 'milestones must be increasing epochs' }),
      factor,
    }),
    z.strictObject({ type: z.literal('exponential'), gamma: z.number().gt(0, { error: 'must be > 0' }).max(1, { error: 'must be ≤ 1' }) }),
    z.strictObject({
      type: z.literal('plateau'),
      monitor: z.enum(['train_loss_avg', 'val_loss', 'val_accuracy']).default('train_loss_avg'),
      factor,
      patience: nonNegativeInt.default(10),
      threshold: z.number().min(0).default(1e-4),
      cooldown: nonNegativeInt.default(0),
      min_lr: z.number().min(0).default(0),
    }),
  ]),
);
export type ScheduleSpec = z.infer<typeof scheduleSpec>;

const regularization = z.strictObject({
  l2: z.number().min(0).default(0),
  l1: z.number().min(0).default(0),
  regularize_bias: z.boolean().default(false),
});

/**
 * Stop when the monitored value has not improved for `patience` evaluated epochs (see
 * src/train/earlyStopping.ts); `restore_best` ends an early-stopped run with the best
 * epoch's parameters.
 */
const earlyStopping = z.strictObject({
  monitor: z.enum(['val_loss', 'val_accuracy', 'train_loss_avg']).default('val_loss'),
  patience: nonNegativeInt.default(5),
  min_delta: z.number().min(0, { error: 'must be ≥ 0' }).default(0),
  restore_best: z.boolean().default(true),
});
export type EarlyStoppingSpec = z.infer<typeof earlyStopping>;

const training = z.strictObject({
  epochs: positiveInt.default(10),
  batch_size: positiveInt.default(64),
  shuffle: z.boolean().default(true),
  loss_window: positiveInt.default(100),
  log_every: positiveInt.default(50),
  eval_every: positiveInt.default(1),
  snapshot_every: positiveInt.default(1),
  keep_snapshots: positiveInt.default(3),
  on_nan: z.enum(['stop', 'rollback']).default('stop'),
  dtype: z.enum(['float32', 'float64']).default('float32'),
  /** Absent: training runs all its epochs. */
  early_stopping: earlyStopping.optional(),
  /** Write a TensorBoard event file in the run directory (src/tensorboard/). */
  tensorboard: z.boolean().default(false),
});

/**
 * The run folder is `<name>-<YYYYMMDD-HHMMSS>` (with `-<k>` when that exists), and a file
 * name may have at most 255 bytes: 200 ASCII characters leave room for the rest.
 */
const MAX_NAME = 200;
/** A run (or sweep) name: it names a folder. */
export const runName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'use letters, digits, ".", "_" and "-" (it names the run folder)' })
  .max(MAX_NAME, {
    error: `must be at most ${MAX_NAME} characters (it names the run folder, <name>-<YYYYMMDD-HHMMSS>, and file names are limited to 255 bytes)`,
  });
const name = runName.default('run');
const seed = nonNegativeInt.max(Number.MAX_SAFE_INTEGER).default(1);

export const configSchema = z
  .strictObject({
    name,
    seed,
    data,
    model,
    loss: lossSpec.prefault('softmax_cross_entropy'),
    optimizer: optimizerSpec,
    regularization: regularization.prefault({}),
    schedule: scheduleSpec.prefault('constant'),
    training: training.prefault({}),
  })
  .superRefine((c, ctx) => {
    // A schedule that watches validation needs a validation split.
    if (c.schedule.type === 'plateau' && c.schedule.monitor !== 'train_loss_avg' && !c.data.validation) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule', 'monitor'],
        message: `${c.schedule.monitor} needs a validation split: add data.validation (e.g. {fraction: 0.1}) or monitor train_loss_avg`,
      });
    }
    const stopping = c.training.early_stopping;
    if (stopping && stopping.monitor !== 'train_loss_avg' && !c.data.validation) {
      ctx.addIssue({
        code: 'custom',
        path: ['training', 'early_stopping', 'monitor'],
        message: `${stopping.monitor} needs a validation split, and data.validation is not set: add data.validation (e.g. {fraction: 0.1}) or monitor train_loss_avg`,
      });
    }
    for (const issue of augmentIssues(c.data.augment, c.model.input)) ctx.addIssue({ code: 'custom', ...issue });
  });

/** A validated config with every default filled in. */
export type Config = z.infer<typeof configSchema>;

/**
 * A model file for `dlt gradcheck` (SPEC §3): the model and the objective without data or
 * training. Built from the same pieces as configSchema, so both validate alike.
 */
export const modelConfigSchema = z.strictObject({
  name,
  seed,
  model,
  loss: lossSpec.prefault('softmax_cross_entropy'),
  regularization: regularization.prefault({}),
});

/** A validated model file with every default filled in. */
export type ModelConfig = z.infer<typeof modelConfigSchema>;
