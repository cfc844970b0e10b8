import { z } from 'zod';
import { trialJobSchema } from './runTrial.js';
import { trialOutcomeSchema } from './trialOutcome.js';

/**
 * What a trial's child process (src/sweep/trialProcess.ts) and its parent say to each
 * other over the IPC channel. Both sides parse what they receive.
 */

/** Parent → child, once: the trial to run, where, and on which backend. */
export const startMessageSchema = z.strictObject({
  kind: z.literal('start'),
  job: trialJobSchema,
  out_dir: z.string(),
  backend: z.enum(['auto', 'js', 'native']).optional(),
  threads: z.number().int().min(1).optional(),
});
export type StartMessage = z.infer<typeof startMessageSchema>;

/** Child → parent: an epoch ended (for the progress line), and, last, the outcome. */
export const childMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('epoch'),
    epoch: z.number().int().min(1),
    epochs: z.number().int().min(1),
    val_accuracy: z.number().nullable(),
    val_loss: z.number().nullable(),
    train_loss_avg: z.number().nullable(),
  }),
  z.strictObject({ kind: z.literal('outcome'), outcome: trialOutcomeSchema }),
]);
export type ChildMessage = z.infer<typeof childMessageSchema>;
export type EpochMessage = Extract<ChildMessage, { kind: 'epoch' }>;
