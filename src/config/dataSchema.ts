import { z } from 'zod';
import { augmentList } from './augmentSchema.js';
import { nonNegativeInt, positive, positiveInt } from './schemaPrimitives.js';

/** The config's `data:` section (SPEC §3), part of src/config/schema.ts. */

const idxSpec = z.strictObject({
  format: z.literal('idx'),
  images: z.string().min(1),
  labels: z.string().min(1),
});
const spiralSpec = z.strictObject({
  format: z.literal('spiral'),
  classes: positiveInt.default(3),
  points_per_class: positiveInt.default(100),
  noise: z.number().min(0).default(0.2),
});
const xorSpec = z.strictObject({
  format: z.literal('xor'),
  points: positiveInt.default(200),
  noise: z.number().min(0).default(0.1),
});
const paritySpec = z.strictObject({
  format: z.literal('parity'),
  bits: positiveInt.max(16, { error: 'must be at most 16 (2^bits samples are generated)' }).default(8),
});
/**
 * A table in a CSV file: one sample per row, the label in `label_column` (a header name,
 * or a 0-based index), every other column a numeric feature. Text labels become class
 * indices in sorted order, decided by data.train (see src/data/csv.ts).
 */
const csvSpec = z.strictObject({
  format: z.literal('csv'),
  path: z.string().min(1),
  label_column: z.union([z.string().min(1), nonNegativeInt], {
    error: "expected the label column's header name (label_column: species) or its 0-based index (label_column: 4)",
  }),
  /** Whether the first row names the columns. */
  header: z.boolean().default(true),
  delimiter: z.string().length(1, { error: 'expected one character, e.g. "," or ";" (a tab is "\\t" in double quotes)' }).default(','),
});
/**
 * The CIFAR-10 binary batches. `path` is the folder holding data_batch_1.bin … data_batch_5.bin
 * and test_batch.bin, or one .bin file. `split` picks the batches in a folder; without it,
 * data.train reads the five data batches and data.test reads test_batch.bin.
 */
const cifar10Spec = z.strictObject({
  format: z.literal('cifar10'),
  path: z.string().min(1),
  split: z.enum(['train', 'test']).optional(),
});
/**
 * A data set known by name (src/data/catalog.ts), found in the dataset cache or a known
 * system folder (`dlt data fetch <name>` downloads it). `split` picks its training or
 * test part; without it, data.train reads the training part and data.test the test part.
 */
const namedSpec = z.strictObject({
  name: z.enum(['mnist', 'fashion-mnist', 'cifar10']),
  split: z.enum(['train', 'test']).optional(),
});
export const fileSpec = z.discriminatedUnion('format', [idxSpec, csvSpec, cifar10Spec, spiralSpec, xorSpec, paritySpec]);
export type FileSpec = z.infer<typeof fileSpec>;
export const datasetSpec = z.union([namedSpec, fileSpec]);
export type DatasetSpec = z.infer<typeof datasetSpec>;

const fractionSplit = z.strictObject({
  fraction: z.number().gt(0, { error: 'must be > 0' }).lt(1, { error: 'must be < 1' }),
});

const preprocess = z
  .strictObject({
    scale: positive.optional(),
    standardize: z.boolean().optional(),
  })
  .refine((p) => !(p.scale !== undefined && p.standardize), {
    error: 'choose one of scale and standardize, not both',
  });

/**
 * Names of classes 0, 1, …, one per output of the last layer: shown by dlt eval and
 * dlt inspect and written to summary.json. With CSV labels that are names, the list
 * also fixes which class each name is (instead of sorted order).
 */
const classNames = z
  .array(z.string().trim().min(1, { error: 'a class name must not be empty' }))
  .min(2, { error: 'list at least two class names, one per output of the last layer' })
  .superRefine((names, ctx) => {
    const seen = new Set<string>();
    const twice = names.find((n) => {
      if (seen.has(n)) return true;
      seen.add(n);
      return false;
    });
    if (twice !== undefined) ctx.addIssue({ code: 'custom', message: `class names must differ; ${JSON.stringify(twice)} is listed twice` });
  });

/** The `data:` section: the splits, preprocessing, class names and augmentation. */
export const data = z.strictObject({
  train: datasetSpec,
  test: datasetSpec.optional(),
  validation: z.union([fractionSplit, datasetSpec]).optional(),
  preprocess: preprocess.prefault({}),
  class_names: classNames.optional(),
  augment: augmentList.optional(),
});
