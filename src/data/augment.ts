import type { AugmentSpec } from '../config/augmentSchema.js';
import { flipImage, shiftImage } from '../tensor/imageMoves.js';
import { type FloatArray, sizeOf } from '../tensor/types.js';
import type { Rng } from '../util/rng.js';

/**
 * Data augmentation (`data.augment`, docs/augment.md): random transforms of each training
 * sample, applied to the preprocessed batch as it is assembled, never to validation or
 * test data. All of them draw from one stream (the seed's "augment" stream), in a fixed
 * order: sample by sample in batch order, and for each sample transform by transform in
 * list order. Each transform draws the same values whatever it then does (hflip draws
 * its coin even when p is 0 or 1), so the stream's position depends only on the samples
 * seen, and a snapshot of it is all a resumed run needs to draw the same again.
 */

/** One transform, built for the shape of a sample. */
export interface Transform {
  /** Draw this transform's choices for one sample, x[at .. at + features), and apply them in place. */
  apply(x: FloatArray, at: number, rng: Rng): void;
}

/** An image sample's dimensions; undefined for a vector (the schema allows only gaussian_noise then). */
type ImageShape = { C: number; H: number; W: number } | undefined;

/**
 * random_crop: pad with `padding` zeros on every side to (H + 2p) × (W + 2p), then cut an
 * H × W window at a random offset: top, then left, each uniform over 0 … 2p. Cutting at
 * (top, left) is shifting the image by (p − top, p − left).
 */
function randomCrop(spec: Extract<AugmentSpec, { type: 'random_crop' }>, image: ImageShape): Transform {
  const { C, H, W } = imageOf(image, spec.type);
  const p = spec.padding;
  return {
    apply(x, at, rng) {
      const top = rng.nextInt(2 * p + 1);
      const left = rng.nextInt(2 * p + 1);
      shiftImage(x, at, C, H, W, p - top, p - left);
    },
  };
}

/** hflip: mirror left–right when a uniform u in [0, 1) is below p (so p = 0 never, p = 1 always). */
function hflip(spec: Extract<AugmentSpec, { type: 'hflip' }>, image: ImageShape): Transform {
  const { C, H, W } = imageOf(image, spec.type);
  const { p } = spec;
  return {
    apply(x, at, rng) {
      if (rng.nextFloat() < p) flipImage(x, at, C, H, W);
    },
  };
}

/** random_translate: shift by dy rows down, then dx columns right, each uniform over −pixels … pixels, filling with zeros. */
function randomTranslate(spec: Extract<AugmentSpec, { type: 'random_translate' }>, image: ImageShape): Transform {
  const { C, H, W } = imageOf(image, spec.type);
  const k = spec.pixels;
  return {
    apply(x, at, rng) {
      const dy = rng.nextInt(2 * k + 1) - k;
      const dx = rng.nextInt(2 * k + 1) - k;
      shiftImage(x, at, C, H, W, dy, dx);
    },
  };
}

/** 2^−32: a 32-bit draw times this is uniform in [0, 1). */
const INV_2_32 = 1 / 0x100000000;

/**
 * gaussian_noise: x ← x + std·z for every feature, z ~ N(0, 1). The features are taken in
 * pairs in storage order (C, H, W row-major), and each pair's z1, z2 come from two 32-bit
 * draws a, b by Box–Muller (1958): u1 = (a + ½)/2³², u2 = b/2³², r = std·√(−2 ln u1),
 * z1·std = r·cos 2πu2, z2·std = r·sin 2πu2 (a last odd feature uses z1 only). A pair's
 * two values, and 32-bit uniforms rather than Rng.normal's 53-bit ones, make it four
 * times cheaper; u1 ≥ 2⁻³³ bounds |z| by 6.8, a tail no augmentation needs. The sum is
 * computed in float64 and stored in the batch's dtype.
 */
function gaussianNoise(spec: Extract<AugmentSpec, { type: 'gaussian_noise' }>, _image: ImageShape, features: number): Transform {
  const { std } = spec;
  return {
    apply(x, at, rng) {
      const end = at + features;
      for (let i = at; i < end; i += 2) {
        const r = std * Math.sqrt(-2 * Math.log((rng.nextUint32() + 0.5) * INV_2_32));
        const angle = 2 * Math.PI * (rng.nextUint32() * INV_2_32);
        x[i] = x[i]! + r * Math.cos(angle);
        if (i + 1 < end) x[i + 1] = x[i + 1]! + r * Math.sin(angle);
      }
    },
  };
}

type Factory<T extends AugmentSpec['type']> = (spec: Extract<AugmentSpec, { type: T }>, image: ImageShape, features: number) => Transform;

/** data.augment's `type` → the transform it builds. */
const registry: { [T in AugmentSpec['type']]: Factory<T> } = {
  random_crop: randomCrop,
  hflip,
  random_translate: randomTranslate,
  gaussian_noise: gaussianNoise,
};

function build<T extends AugmentSpec['type']>(spec: Extract<AugmentSpec, { type: T }>, image: ImageShape, features: number): Transform {
  const factory: Factory<T> = registry[spec.type];
  return factory(spec, image, features);
}

function imageOf(image: ImageShape, type: string): { C: number; H: number; W: number } {
  // The config schema refuses image transforms on vector inputs; reaching this is a bug.
  if (!image) throw new Error(`${type} needs an image input [C, H, W]`);
  return image;
}

/** The transforms of data.augment over a batch buffer, drawing from one stream. */
export class Augmenter {
  private constructor(
    private readonly transforms: readonly Transform[],
    private readonly features: number,
    private readonly rng: Rng,
  ) {}

  /**
   * The augmenter for `specs` on samples of `shape` ([C, H, W] or [D]) drawing from `rng`
   * (the seed's "augment" stream); undefined when there is nothing to apply.
   */
  static build(specs: readonly AugmentSpec[] | undefined, shape: readonly number[], rng: Rng): Augmenter | undefined {
    if (!specs || specs.length === 0) return undefined;
    const [C, H, W] = shape;
    const image = shape.length === 3 && C !== undefined && H !== undefined && W !== undefined ? { C, H, W } : undefined;
    const features = sizeOf(shape);
    return new Augmenter(
      specs.map((spec) => build(spec, image, features)),
      features,
      rng,
    );
  }

  /** x is a preprocessed batch [n × features] (or longer): transform its first n samples in place, in order. */
  apply(x: FloatArray, n: number): void {
    const { transforms, features, rng } = this;
    for (let k = 0; k < n; k++) {
      const at = k * features;
      for (const t of transforms) t.apply(x, at, rng);
    }
  }
}
