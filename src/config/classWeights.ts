import { z } from 'zod';

/**
 * `loss.class_weights` (softmax_cross_entropy and multiclass_hinge): `balanced`, which a
 * run resolves from its training split (src/losses/classWeights.ts), or one weight per
 * class. Weights are ≥ 0 and not all 0: the batch loss Σ w_y·ℓ / Σ w_y needs some
 * weight. That the list has one weight per output of the last layer is checked when the
 * loss is built, since only the built model knows its number of outputs.
 */
export const classWeightsSpec = z
  .union(
    [
      z.literal('balanced'),
      z.array(z.number(), { error: 'expected a list of numbers, one weight per class' }).min(1, { error: 'give one weight per class' }),
    ],
    {
      error: 'expected balanced, or a list of weights, one per class (e.g. [1, 4.5, 1])',
    },
  )
  .superRefine((weights, ctx) => {
    if (weights === 'balanced') return;
    for (const [i, w] of weights.entries()) {
      if (w < 0) ctx.addIssue({ code: 'custom', path: [i], message: 'a class weight must be ≥ 0' });
    }
    if (weights.length > 0 && weights.every((w) => w === 0))
      ctx.addIssue({ code: 'custom', message: 'needs some class with a weight > 0 (with every weight 0 no sample counts)' });
  });
