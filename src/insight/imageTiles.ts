import type { Sharp } from 'sharp';
import type { FloatArray } from '../tensor/types.js';
import { type ReceptiveField, windowOf } from './receptiveField.js';

/** Half-open rows [y0, y1) and columns [x0, x1) of an image. */
type Window = ReturnType<typeof windowOf>;

/** An image of bytes, [channels × height × width] channel by channel (1 = grayscale, 3 = RGB). */
export interface Tile {
  channels: number;
  height: number;
  width: number;
  pixels: Uint8Array;
}

/**
 * The samples of a split of image data, as tiles: whole, or the part a unit sees.
 * `x` holds every sample of the dataset, [count × C × H × W] bytes; sample k of the
 * split is dataset sample indices[k].
 */
export class SampleImages {
  constructor(
    private readonly x: Uint8Array,
    private readonly indices: Uint32Array,
    /** [C, H, W] */
    readonly shape: readonly number[],
  ) {}

  whole(sample: number): Tile {
    const [, H = 1, W = 1] = this.shape;
    return crop(this.x, this.indices[sample]!, this.shape, { y0: 0, y1: H, x0: 0, x1: W });
  }

  /** The receptive field of output position (oy, ox), clipped to the image. */
  patch(sample: number, field: ReceptiveField, oy: number, ox: number): Tile {
    const [, H = 1, W = 1] = this.shape;
    return crop(this.x, this.indices[sample]!, this.shape, windowOf(field, oy, ox, H, W));
  }
}

/**
 * The pixels of sample `sample` of an image dataset ([count × C × H × W] bytes) inside
 * `window` (half-open rows and columns, already clipped to the image).
 */
export function crop(x: Uint8Array, sample: number, shape: readonly number[], window: Window): Tile {
  const [C = 1, H = 1, W = 1] = shape;
  const height = window.y1 - window.y0;
  const width = window.x1 - window.x0;
  const pixels = new Uint8Array(C * height * width);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < height; y++) {
      const from = ((sample * C + c) * H + window.y0 + y) * W + window.x0;
      pixels.set(x.subarray(from, from + width), (c * height + y) * width);
    }
  }
  return { channels: C, height, width, pixels };
}

/**
 * Weights [C × H × W] as an image in which grey is zero: 128 + 127·w / max|w|, so that
 * positive weights are light and negative ones dark, and a filter's own scale is used
 * (each filter fills the range it can).
 */
export function weightTile(values: FloatArray, channels: number, height: number, width: number): Tile {
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  const pixels = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) pixels[i] = Math.round(128 + (max > 0 ? (127 * values[i]!) / max : 0));
  return { channels, height, width, pixels };
}

/** The tiles as PNG data URIs (encoded by sharp), to inline in the page: no file beside it. */
export async function pngDataUris(tiles: readonly Tile[]): Promise<string[]> {
  const { default: sharp } = await import('sharp');
  const encode = (tile: Tile): Sharp =>
    sharp(interleaved(tile), { raw: { width: tile.width, height: tile.height, channels: tile.channels === 3 ? 3 : 1 } });
  const uris: string[] = [];
  // A few at a time: libvips encodes on its own threads.
  for (let start = 0; start < tiles.length; start += 16) {
    const group = tiles
      .slice(start, start + 16)
      .map(async (tile) => `data:image/png;base64,${(await encode(tile).png().toBuffer()).toString('base64')}`);
    uris.push(...(await Promise.all(group)));
  }
  return uris;
}

/** [C, H, W] → [H, W, C], the layout image codecs read. */
function interleaved({ channels, height, width, pixels }: Tile): Uint8Array {
  if (channels === 1) return pixels;
  const plane = height * width;
  const out = new Uint8Array(pixels.length);
  for (let c = 0; c < channels; c++) for (let p = 0; p < plane; p++) out[p * channels + c] = pixels[c * plane + p]!;
  return out;
}
