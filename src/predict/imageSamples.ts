import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { OutputInfo, Sharp } from 'sharp';
import { InputError } from '../errors.js';
import { sizeOf } from '../tensor/types.js';
import { withIo } from '../util/ioError.js';
import { IMAGE_NAME } from './inputKind.js';
import { type Samples, unlabelledSamples } from './samples.js';

/**
 * PNG and JPEG images as samples of a model that takes [C, H, W] images, decoded by
 * sharp (libvips): turned upright by their EXIF orientation, converted to grayscale
 * (C = 1) or sRGB (C = 3) with any alpha channel dropped, and resized to H×W (fit
 * 'fill', no cropping) when their size differs. Pixels stay raw bytes 0–255, like the
 * records of IDX and CIFAR-10 files; the run's preprocessing is applied later, as for
 * training data. sharp is loaded only here, so other commands never load libvips.
 *
 * @param files the images, in output order; each is called by its path.
 * @param source what to call them together in messages (the folder, or the one image).
 * @throws InputError naming the image when the model does not take images, or an image
 *   cannot be decoded.
 */
export async function readImageSamples(files: readonly string[], modelInput: readonly number[], source: string): Promise<Samples> {
  const [C, H, W] = imageShape(modelInput, files[0] ?? source);
  const { default: sharp } = await import('sharp');
  const plane = H * W;
  const x = new Uint8Array(files.length * C * plane);
  const resized: { file: string; width: number; height: number }[] = [];

  // A few images at a time: libvips decodes on its own threads, and a failure is
  // reported for the first image (in order) that failed, whatever finished first.
  for (let start = 0; start < files.length; start += CONCURRENT) {
    const group = files.slice(start, start + CONCURRENT);
    const decoded = await Promise.allSettled(group.map((file) => decode(sharp(file, { autoOrient: true, failOn: 'error' }), C, H, W)));
    for (const [k, result] of decoded.entries()) {
      const file = group[k]!;
      if (result.status === 'rejected') throw unreadable(file, result.reason);
      const { pixels, info, width, height } = result.value;
      if (info.channels !== C || info.width !== W || info.height !== H) {
        throw new Error(`sharp gave ${info.width}×${info.height}×${info.channels} pixels for a ${W}×${H}×${C} conversion of ${file}`);
      }
      if (width !== W || height !== H) resized.push({ file, width, height });
      // pixels is [H, W, C], channels interleaved; sample i of x is [C, H, W].
      const base = (start + k) * C * plane;
      for (let c = 0; c < C; c++) {
        const to = base + c * plane;
        for (let p = 0; p < plane; p++) x[to + p] = pixels[p * C + c]!;
      }
    }
  }
  return unlabelledSamples(x, modelInput, [...files], source, resized.length > 0 ? [resizeNote(resized, H, W)] : []);
}

/**
 * The PNG and JPEG files directly in `folder` (names ending .png, .jpg or .jpeg, in any
 * case), sorted by name (code unit order, the same on every machine). Other files and
 * subfolders are ignored.
 *
 * @throws InputError naming the folder when it holds no such image.
 */
export function imagesInFolder(folder: string): string[] {
  const names = withIo('list', folder, () => readdirSync(folder))
    .filter((name) => IMAGE_NAME.test(name))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const files = names.map((name) => path.join(folder, name)).filter((file) => withIo('read', file, () => statSync(file)).isFile());
  if (files.length === 0) {
    throw new InputError(
      'the folder holds no PNG or JPEG images (files ending .png, .jpg or .jpeg); give a folder of images, or an image file',
      folder,
    );
  }
  return files;
}

/** Images decoded at once: enough to keep libvips' threads busy, few enough to bound memory. */
const CONCURRENT = 8;

/** The model's [C, H, W], when it takes images sharp can give it: C = 1 (grayscale) or 3 (RGB). */
function imageShape(modelInput: readonly number[], image: string): [number, number, number] {
  const [C, H, W] = modelInput;
  if (modelInput.length !== 3 || C === undefined || H === undefined || W === undefined) {
    throw new InputError(
      `the model takes vectors of ${sizeOf(modelInput)} features (model.input [${modelInput.join(', ')}]), not images; give a CSV file with one sample per row`,
      image,
    );
  }
  if (C !== 1 && C !== 3) {
    throw new InputError(
      `the model takes images of ${C} channels (model.input [${modelInput.join(', ')}]), but PNG and JPEG images become 1 channel (grayscale) or 3 (RGB); ` +
        'give the samples as an IDX or CSV file in the model input shape',
      image,
    );
  }
  return [C, H, W];
}

/** One image as raw bytes [H, W, C] and the size it had (upright) before any resize. */
async function decode(
  image: Sharp,
  C: number,
  H: number,
  W: number,
): Promise<{ pixels: Uint8Array; info: OutputInfo; width: number; height: number }> {
  const { autoOrient } = await image.metadata();
  image.removeAlpha().toColourspace(C === 1 ? 'b-w' : 'srgb');
  if (autoOrient.width !== W || autoOrient.height !== H) image.resize(W, H, { fit: 'fill' });
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { pixels: data, info, width: autoOrient.width, height: autoOrient.height };
}

/** sharp's refusal to decode an image, as the user should read it. */
function unreadable(file: string, reason: unknown): InputError {
  const detail = reason instanceof Error ? reason.message.replace(/\s+$/, '') : String(reason);
  return new InputError(`cannot read this image (${detail}); the file is damaged or not a PNG or JPEG image`, file);
}

/** `3 images resized to 28×28 (first: a.png, 32×32)`. */
function resizeNote(resized: readonly { file: string; width: number; height: number }[], H: number, W: number): string {
  const first = resized[0]!;
  const which = `${resized.length > 1 ? 'first: ' : ''}${first.file}, ${first.width}×${first.height}`;
  return `${resized.length} image${resized.length > 1 ? 's' : ''} resized to ${W}×${H} (${which})`;
}
