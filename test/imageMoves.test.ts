// The pixel moves of augmentation (src/tensor/imageMoves.ts), with the offsets given: every
// output pixel written out by hand on small images, in both dtypes.
import { describe, expect, it } from 'vitest';
import { flipImage, shiftImage } from '../src/tensor/imageMoves.js';

const DTYPES = [Float32Array, Float64Array] as const;

/** A [2, 3, 4] image whose pixel (c, y, x) is 100c + 10y + x + 1 (no pixel is 0), after `pad` leading entries. */
function image<T extends Float32ArrayConstructor | Float64ArrayConstructor>(Type: T, pad = 0): InstanceType<T> {
  const x = new Type(pad + 24) as InstanceType<T>;
  for (let c = 0; c < 2; c++) for (let y = 0; y < 3; y++) for (let i = 0; i < 4; i++) x[pad + (c * 3 + y) * 4 + i] = 100 * c + 10 * y + i + 1;
  return x;
}

/** The image as rows of numbers, map by map. */
function rows(x: Float32Array | Float64Array, at = 0): number[][][] {
  return [0, 1].map((c) => [0, 1, 2].map((y) => Array.from(x.subarray(at + (c * 3 + y) * 4, at + (c * 3 + y + 1) * 4))));
}

describe.each(DTYPES)('shiftImage (%o)', (Type) => {
  it('(0, 0) leaves the image as it is', () => {
    const x = image(Type);
    shiftImage(x, 0, 2, 3, 4, 0, 0);
    expect(x).toEqual(image(Type));
  });

  it('moves every map down by dy and right by dx, zeros coming in', () => {
    const x = image(Type);
    shiftImage(x, 0, 2, 3, 4, 1, 2); // out[y][x] = in[y − 1][x − 2]
    expect(rows(x)).toEqual([
      [
        [0, 0, 0, 0],
        [0, 0, 1, 2],
        [0, 0, 11, 12],
      ],
      [
        [0, 0, 0, 0],
        [0, 0, 101, 102],
        [0, 0, 111, 112],
      ],
    ]);
  });

  it('moves up and left for negative offsets', () => {
    const x = image(Type);
    shiftImage(x, 0, 2, 3, 4, -2, -1); // out[y][x] = in[y + 2][x + 1]
    expect(rows(x)).toEqual([
      [
        [22, 23, 24, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
      [
        [122, 123, 124, 0],
        [0, 0, 0, 0],
        [0, 0, 0, 0],
      ],
    ]);
  });

  it('shifts within a row (dy = 0) and across rows only (dx = 0), both ways', () => {
    const right = image(Type);
    shiftImage(right, 0, 2, 3, 4, 0, 1);
    expect(rows(right)[0]).toEqual([
      [0, 1, 2, 3],
      [0, 11, 12, 13],
      [0, 21, 22, 23],
    ]);
    const left = image(Type);
    shiftImage(left, 0, 2, 3, 4, 0, -3);
    expect(rows(left)[1]).toEqual([
      [104, 0, 0, 0],
      [114, 0, 0, 0],
      [124, 0, 0, 0],
    ]);
    const up = image(Type);
    shiftImage(up, 0, 2, 3, 4, -1, 0);
    expect(rows(up)[0]).toEqual([
      [11, 12, 13, 14],
      [21, 22, 23, 24],
      [0, 0, 0, 0],
    ]);
    const down = image(Type);
    shiftImage(down, 0, 2, 3, 4, 2, 0);
    expect(rows(down)[1]).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [101, 102, 103, 104],
    ]);
  });

  it('leaves zeros only when the shift is the whole height or width', () => {
    for (const [dy, dx] of [
      [3, 0],
      [-3, 1],
      [0, 4],
      [1, -4],
      [5, 9],
    ] as const) {
      const x = image(Type);
      shiftImage(x, 0, 2, 3, 4, dy, dx);
      expect(Array.from(x), `(${dy}, ${dx})`).toEqual(new Array(24).fill(0));
    }
  });

  it('touches only the image at `at` inside a batch', () => {
    const x = image(Type, 5);
    x.fill(-7, 0, 5);
    const after = new Type(31).fill(-9);
    const batch = new Type(60);
    batch.set(x, 0);
    batch.set(after, 29);
    shiftImage(batch, 5, 2, 3, 4, -1, 1);
    expect(Array.from(batch.subarray(0, 5))).toEqual([-7, -7, -7, -7, -7]);
    expect(Array.from(batch.subarray(29))).toEqual(Array.from(after));
    expect(rows(batch, 5)[0]).toEqual([
      [0, 11, 12, 13],
      [0, 21, 22, 23],
      [0, 0, 0, 0],
    ]);
  });
});

describe.each(DTYPES)('flipImage (%o)', (Type) => {
  it('mirrors every row of every map left to right, and twice is the identity', () => {
    const x = image(Type);
    flipImage(x, 0, 2, 3, 4);
    expect(rows(x)).toEqual([
      [
        [4, 3, 2, 1],
        [14, 13, 12, 11],
        [24, 23, 22, 21],
      ],
      [
        [104, 103, 102, 101],
        [114, 113, 112, 111],
        [124, 123, 122, 121],
      ],
    ]);
    flipImage(x, 0, 2, 3, 4);
    expect(x).toEqual(image(Type));
  });

  it('keeps the middle column of an odd width, and touches only the image at `at`', () => {
    const x = new Type([9, 1, 2, 3, 4, 5, 6, 9]); // one [1, 2, 3] image at 1
    flipImage(x, 1, 1, 2, 3);
    expect(Array.from(x)).toEqual([9, 3, 2, 1, 6, 5, 4, 9]);
  });
});
