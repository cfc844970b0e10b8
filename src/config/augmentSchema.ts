import { z } from 'zod';

/**
 * `data.augment`: the transforms applied to each training sample as its batch is
 * assembled (docs/augment.md says exactly what each does and in which order it draws).
 * A transform without options may be a bare string (`- hflip`), as a layer may.
 */

/** Pixels to pad or shift by: a whole number ≥ 1 (at most the image's larger side, checked with model.input). */
const pixels = z.number().int().min(1, { error: 'must be at least 1 (remove the transform to turn it off)' });

/** Pads with `padding` zeros on every side, then crops back to H×W at a random offset. */
const randomCrop = z.strictObject({ type: z.literal('random_crop'), padding: pixels.default(4) });
/** Mirrors left–right with probability `p`. */
const hflip = z.strictObject({
  type: z.literal('hflip'),
  p: z.number().min(0, { error: 'must be ≥ 0 (a probability)' }).max(1, { error: 'must be ≤ 1 (a probability)' }).default(0.5),
});
/** Shifts by dy and dx, each uniform over −pixels … pixels, filling with zeros. */
const randomTranslate = z.strictObject({ type: z.literal('random_translate'), pixels: pixels.default(2) });
/** Adds N(0, std²) noise to every feature. */
const gaussianNoise = z.strictObject({ type: z.literal('gaussian_noise'), std: z.number().gt(0, { error: 'must be > 0' }).default(0.05) });

export const augmentSpec = z.preprocess(
  (v) => (typeof v === 'string' ? { type: v } : v),
  z.discriminatedUnion('type', [randomCrop, hflip, randomTranslate, gaussianNoise]),
);
export type AugmentSpec = z.infer<typeof augmentSpec>;

export const augmentList = z.array(augmentSpec, { error: 'expected a list of transforms, e.g. [{type: random_crop, padding: 4}, hflip]' });

/** How far a transform moves pixels, for those that move them (checked against the image's size). */
function shiftOf(spec: AugmentSpec): number | undefined {
  if (spec.type === 'random_crop') return spec.padding;
  if (spec.type === 'random_translate') return spec.pixels;
  return undefined;
}

/** Whether a transform reads its sample as an image [C, H, W] (all but gaussian_noise). */
function needsImage(spec: AugmentSpec): boolean {
  return spec.type !== 'gaussian_noise';
}

/**
 * The cross-field rules between data.augment and model.input, as issues at the
 * transform's key path: an image transform needs [C, H, W] inputs, and a crop or shift
 * may move pixels by at most the image's larger side (a larger one only adds blank images).
 */
export function augmentIssues(augment: readonly AugmentSpec[] | undefined, input: readonly number[]): { path: PropertyKey[]; message: string }[] {
  const issues: { path: PropertyKey[]; message: string }[] = [];
  (augment ?? []).forEach((spec, i) => {
    const path = ['data', 'augment', i];
    if (needsImage(spec) && input.length !== 3) {
      issues.push({
        path,
        message: `${spec.type} needs image inputs [C, H, W] but model.input is [${input.join(', ')}]; only gaussian_noise applies to vectors`,
      });
      return;
    }
    const shift = shiftOf(spec);
    const side = Math.max(input[1] ?? 0, input[2] ?? 0);
    if (shift !== undefined && shift > side) {
      const key = spec.type === 'random_crop' ? 'padding' : 'pixels';
      issues.push({
        path: [...path, key],
        message: `must be at most ${side}, the larger side of the ${input.join('×')} input (a larger shift only adds blank images)`,
      });
    }
  });
  return issues;
}
