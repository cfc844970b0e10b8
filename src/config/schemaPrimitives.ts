import { z } from 'zod';

/** The small zod pieces the config schema is built from (src/config/schema.ts, dataSchema.ts). */

export const int = (what: string) => z.number({ error: `expected ${what}` }).int({ error: `expected ${what}, a whole number` });
export const positiveInt = int('a positive whole number').min(1, { error: 'must be at least 1' });
export const nonNegativeInt = int('a whole number ≥ 0').min(0, { error: 'must be ≥ 0' });
export const positive = z.number().gt(0, { error: 'must be > 0' });
export const unitInterval = z.number().min(0, { error: 'must be ≥ 0' }).lt(1, { error: 'must be < 1' });

/** A bare string stands for `{type: <string>}` (SPEC §3: `- relu`). */
export function typed<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (typeof v === 'string' ? { type: v } : v), schema);
}
