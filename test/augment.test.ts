// data.augment's transforms (src/data/augment.ts) on small hand-made images: what each
// draws from the "augment" stream, in which order, and the exact pixels it gives.
import { describe, expect, it } from 'vitest';
import type { AugmentSpec } from '../src/config/augmentSchema.js';
import { Augmenter } from '../src/data/augment.js';
import { Rng } from '../src/util/rng.js';

const SHAPE = [1, 3, 3];
/** One [1, 3, 3] image, pixel (y, x) = 3y + x + 1. */
const IMAGE = [1, 2, 3, 4, 5, 6, 7, 8, 9];
const MIRRORED = [3, 2, 1, 6, 5, 4, 9, 8, 7];

/** A copy of a stream, to draw what the augmenter is expected to draw. */
const twin = (rng: Rng) => Rng.fromState(rng.toState());

function augmenter(specs: AugmentSpec[], shape = SHAPE, seed = 5): { aug: Augmenter; rng: Rng; expected: Rng } {
  const rng = Rng.derive(seed, 'augment');
  const expected = twin(rng);
  const aug = Augmenter.build(specs, shape, rng);
  if (!aug) throw new Error('no augmenter built');
  return { aug, rng, expected };
}

/** The 3×3 image shifted by (dy, dx), zeros coming in. */
function shifted(dy: number, dx: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < 3; y++) {
    for (let x = 0; x < 3; x++) {
      const sy = y - dy;
      const sx = x - dx;
      out.push(sy >= 0 && sy < 3 && sx >= 0 && sx < 3 ? IMAGE[sy * 3 + sx]! : 0);
    }
  }
  return out;
}

describe('Augmenter', () => {
  it('is not built for a missing or empty list', () => {
    expect(Augmenter.build(undefined, SHAPE, Rng.derive(1, 'augment'))).toBeUndefined();
    expect(Augmenter.build([], SHAPE, Rng.derive(1, 'augment'))).toBeUndefined();
  });

  it('random_crop draws top then left over 0 … 2·padding and cuts the zero-padded image there', () => {
    const { aug, rng, expected } = augmenter([{ type: 'random_crop', padding: 1 }]);
    const x = new Float32Array(IMAGE);
    aug.apply(x, 1);
    const top = expected.nextInt(3);
    const left = expected.nextInt(3);
    // The padded image is 5×5; the window at (top, left) is the image moved by (1 − top, 1 − left).
    expect(Array.from(x)).toEqual(shifted(1 - top, 1 - left));
    expect(Array.from(x), 'this seed moves the image').not.toEqual(IMAGE);
    expect(rng.toState()).toEqual(expected.toState());
  });

  it('random_crop gives every one of the (2p + 1)² windows, keeping the shape and filling with zeros', () => {
    const { aug } = augmenter([{ type: 'random_crop', padding: 1 }]);
    const seen = new Set<string>();
    const x = new Float64Array(9);
    for (let i = 0; i < 400; i++) {
      x.set(IMAGE);
      aug.apply(x, 1);
      expect(x.length).toBe(9);
      const match = [-1, 0, 1]
        .flatMap((dy) => [-1, 0, 1].map((dx) => [dy, dx] as const))
        .find(([dy, dx]) => shifted(dy, dx).every((v, k) => v === x[k]));
      expect(match, `window ${Array.from(x)}`).toBeDefined();
      seen.add(String(match));
    }
    expect(seen.size).toBe(9);
  });

  it('hflip draws one uniform per sample and mirrors when it is below p', () => {
    const { aug, rng, expected } = augmenter([{ type: 'hflip', p: 0.5 }], SHAPE, 3);
    const x = new Float32Array([...IMAGE, ...IMAGE, ...IMAGE, ...IMAGE]);
    aug.apply(x, 4);
    const flips = [0, 1, 2, 3].map(() => expected.nextFloat() < 0.5);
    expect(flips, 'this seed flips some of the four and not others').toContain(true);
    expect(flips).toContain(false);
    for (const [k, flip] of flips.entries()) expect(Array.from(x.subarray(9 * k, 9 * k + 9)), `sample ${k}`).toEqual(flip ? MIRRORED : IMAGE);
    expect(rng.toState()).toEqual(expected.toState());
  });

  it('hflip p = 0 is the identity and p = 1 always mirrors; both still draw their coin', () => {
    for (const [p, want] of [
      [0, IMAGE],
      [1, MIRRORED],
    ] as const) {
      const { aug, rng, expected } = augmenter([{ type: 'hflip', p }]);
      const x = new Float32Array(9 * 20);
      for (let k = 0; k < 20; k++) x.set(IMAGE, 9 * k);
      aug.apply(x, 20);
      for (let k = 0; k < 20; k++) expect(Array.from(x.subarray(9 * k, 9 * k + 9)), `p = ${p}, sample ${k}`).toEqual(want);
      for (let k = 0; k < 20; k++) expected.nextFloat();
      expect(rng.toState()).toEqual(expected.toState());
    }
  });

  it('random_translate draws dy then dx over −pixels … pixels and shifts by them', () => {
    const { aug, rng, expected } = augmenter([{ type: 'random_translate', pixels: 2 }], [2, 3, 3], 8);
    const x = new Float64Array([...IMAGE, ...IMAGE.map((v) => -v)]);
    aug.apply(x, 1);
    const dy = expected.nextInt(5) - 2;
    const dx = expected.nextInt(5) - 2;
    expect(Array.from(x.subarray(0, 9))).toEqual(shifted(dy, dx));
    expect([dy, dx], 'this seed moves the image').not.toEqual([0, 0]);
    expect(Array.from(x.subarray(9)), 'both channels move alike').toEqual(shifted(dy, dx).map((v) => (v === 0 ? 0 : -v)));
    expect(rng.toState()).toEqual(expected.toState());
  });

  it('gaussian_noise adds std·z to each feature, z from Box–Muller over pairs of 32-bit draws', () => {
    const std = 0.25;
    const { aug, rng, expected } = augmenter([{ type: 'gaussian_noise', std }], [5]);
    const x = new Float64Array([1, 2, 3, 4, 5]);
    aug.apply(x, 1);
    const want: number[] = [];
    for (let f = 0; f < 5; f += 2) {
      const r = std * Math.sqrt(-2 * Math.log((expected.nextUint32() + 0.5) / 2 ** 32));
      const angle = 2 * Math.PI * (expected.nextUint32() / 2 ** 32);
      want.push(f + 1 + r * Math.cos(angle));
      if (f + 1 < 5) want.push(f + 2 + r * Math.sin(angle));
    }
    expect(Array.from(x)).toEqual(want);
    expect(rng.toState()).toEqual(expected.toState());
  });

  it('gaussian_noise stores the float64 sum rounded to float32 in a float32 batch', () => {
    const a = augmenter([{ type: 'gaussian_noise', std: 0.1 }], [4]);
    const b = augmenter([{ type: 'gaussian_noise', std: 0.1 }], [4]);
    const x32 = new Float32Array([0.1, 0.2, 0.3, 0.4]);
    const x64 = new Float64Array(x32);
    a.aug.apply(x32, 1);
    b.aug.apply(x64, 1);
    expect(Array.from(x32)).toEqual(Array.from(x64).map(Math.fround));
  });

  it('gaussian_noise has mean 0 and standard deviation std', () => {
    const { aug } = augmenter([{ type: 'gaussian_noise', std: 2 }], [1000]);
    const x = new Float64Array(1000 * 50);
    aug.apply(x, 50);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const sd = Math.sqrt(x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 2)).toBeLessThan(0.05);
  });

  it('draws sample by sample in batch order, and transform by transform in list order', () => {
    const specs: AugmentSpec[] = [
      { type: 'hflip', p: 0.5 },
      { type: 'random_translate', pixels: 1 },
      { type: 'random_crop', padding: 1 },
    ];
    const { aug, rng, expected } = augmenter(specs, SHAPE, 21);
    const x = new Float32Array([...IMAGE, ...IMAGE, ...IMAGE]);
    aug.apply(x, 2); // the third sample is beyond n: left alone
    for (let k = 0; k < 2; k++) {
      const one = new Float32Array(IMAGE);
      const flip = expected.nextFloat() < 0.5;
      const t = [expected.nextInt(3) - 1, expected.nextInt(3) - 1] as const;
      const c = [1 - expected.nextInt(3), 1 - expected.nextInt(3)] as const;
      let want = flip ? MIRRORED : IMAGE;
      // Each move is applied to the result of the one before.
      for (const [dy, dx] of [t, c]) {
        const next: number[] = [];
        for (let y = 0; y < 3; y++)
          for (let i = 0; i < 3; i++) next.push(y - dy >= 0 && y - dy < 3 && i - dx >= 0 && i - dx < 3 ? want[(y - dy) * 3 + i - dx]! : 0);
        want = next;
      }
      one.set(want);
      expect(Array.from(x.subarray(9 * k, 9 * k + 9)), `sample ${k}`).toEqual(Array.from(one));
    }
    expect(Array.from(x.subarray(18))).toEqual(IMAGE);
    expect(rng.toState()).toEqual(expected.toState());
  });

  it('the same stream state gives the same batch', () => {
    const specs: AugmentSpec[] = [
      { type: 'random_crop', padding: 2 },
      { type: 'hflip', p: 0.5 },
      { type: 'gaussian_noise', std: 0.1 },
    ];
    const batch = () => {
      const x = new Float32Array(9 * 8);
      for (let k = 0; k < 8; k++) x.set(IMAGE, 9 * k);
      return x;
    };
    const a = augmenter(specs, SHAPE, 9);
    const b = augmenter(specs, SHAPE, 9);
    const xa = batch();
    const xb = batch();
    a.aug.apply(xa, 8);
    b.aug.apply(xb, 8);
    expect(xa).toEqual(xb);
    const other = augmenter(specs, SHAPE, 10);
    const xc = batch();
    other.aug.apply(xc, 8);
    expect(xc).not.toEqual(xa);
  });
});
