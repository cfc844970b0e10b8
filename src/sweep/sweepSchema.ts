import { z } from 'zod';
import { runName } from '../config/schema.js';
import { nonNegativeInt, positiveInt } from '../config/schemaPrimitives.js';

/**
 * The sweep file (`dlt sweep <sweep.yaml>`), as a zod schema: a base config, the config
 * keys to vary and how, and the metric that ranks the trials. Validated once, here, with
 * the config's machinery (line:col, did-you-mean); src/sweep/sweepFile.ts adds the rules
 * that need the base config.
 */

/** A grid larger than this is almost surely a mistake (and would take days). */
export const MAX_TRIALS = 10_000;

/** The metrics a trial can be ranked by: what dlt records per epoch, never the test split. */
export const SWEEP_METRICS = ['val_accuracy', 'val_loss', 'train_loss_avg'] as const;
export type SweepMetricName = (typeof SWEEP_METRICS)[number];

const metricName = z.enum(SWEEP_METRICS, {
  error: (issue) =>
    issue.input === 'test_accuracy' || issue.input === 'test_loss'
      ? `${String(issue.input)} never chooses a trial: the test split judges the chosen model, so choosing by it would make that judgement optimistic; rank by val_accuracy or val_loss`
      : undefined,
});

const metric = z
  .strictObject({
    name: metricName.default('val_accuracy'),
    /** Absent: maximize for accuracy, minimize for a loss. */
    goal: z.enum(['maximize', 'minimize']).optional(),
  })
  .transform((m) => ({ name: m.name, goal: m.goal ?? (m.name === 'val_accuracy' ? 'maximize' : 'minimize') }));
export type SweepMetric = z.infer<typeof metric>;

/** `{values: [...]}`: a list to choose from (grid: every one; random: uniformly). */
const valuesSpec = z.strictObject({
  values: z.array(z.unknown()).min(1, { error: 'needs at least one value' }),
});

/** `{min, max, scale}`: a range to draw from uniformly, or log-uniformly (random only). */
const rangeSpec = z
  .strictObject({
    min: z.number().refine(Number.isFinite, 'must be finite'),
    max: z.number().refine(Number.isFinite, 'must be finite'),
    scale: z.enum(['linear', 'log']).default('linear'),
  })
  .superRefine((r, ctx) => {
    if (!(r.min < r.max)) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be greater than min (${r.min})` });
    if (r.scale === 'log' && !(r.min > 0)) ctx.addIssue({ code: 'custom', path: ['min'], message: 'must be > 0 with scale: log' });
  });

export const parameterSpec = z.union([valuesSpec, rangeSpec]);
export type ParameterSpec = z.infer<typeof parameterSpec>;

/** A dotted config path, as `dlt train --set` takes it: `optimizer.lr`, `model.layers.0.units`. */
const parameterPath = z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, {
  error: 'a parameter is a dotted config path, as --set takes it: optimizer.lr, model.layers.0.units',
});

export const sweepSchema = z
  .strictObject({
    name: runName.default('sweep'),
    /** The dlt config every trial starts from, relative to the sweep file. */
    base: z.string().min(1, { error: 'give the path of a dlt config, relative to this file' }),
    method: z.enum(['grid', 'random']).default('grid'),
    /** Random only: how many trials to draw. */
    trials: positiveInt.max(MAX_TRIALS).optional(),
    /** Seed of the random method's draws (the trials' own seed is the base config's). */
    seed: nonNegativeInt.max(Number.MAX_SAFE_INTEGER).default(1),
    metric: metric.prefault({}),
    parameters: z.record(parameterPath, parameterSpec).refine((p) => Object.keys(p).length > 0, 'name at least one config key to vary'),
    /** Trials at once on this machine; absent: what the cores allow (src/sweep/localEngine.ts). */
    parallel: positiveInt.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.method === 'random' && s.trials === undefined) {
      ctx.addIssue({ code: 'custom', path: ['trials'], message: 'method: random needs trials: how many to draw' });
    }
    if (s.method === 'grid' && s.trials !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['trials'], message: 'method: grid runs every combination; remove trials, or use method: random' });
    }
    for (const [key, spec] of Object.entries(s.parameters)) {
      if (s.method === 'grid' && !('values' in spec)) {
        ctx.addIssue({ code: 'custom', path: ['parameters', key], message: 'a range (min, max) needs method: random; give values for a grid' });
      }
    }
  });

/** A validated sweep file with every default filled in. */
export type SweepSpec = z.infer<typeof sweepSchema>;
