/**
 * Decoding image files (PNG, JPEG) to packed RGB bytes with node-canvas (libpng, libjpeg): the
 * same decoder for datasets, the reference sample, `predict` and `evaluate`. Before any pixel is
 * decoded the file's header and structure are checked (see image-format.ts), so that a file too
 * big to decode, too small to hold a CAPTCHA, or truncated or damaged is refused by name instead
 * of exhausting memory or being read as a confident wrong answer.
 */
import * as fs from 'fs';
import { canvasOfSize, loadCanvas, type RgbImage } from '../captcha';
import { findImageDamage, ImageFormatError, readImageHeader, type ImageHeader } from './image-format';

export type { RgbImage };

/**
 * Largest image decoded, in pixels (4096 x 4096, 16.8 megapixels): decoding needs about 15
 * bytes a pixel at once (RGBA bitmap, canvas, pixel copy), so ~250 MB for one such image, and
 * batches decode 64 at a time. A CAPTCHA is a few thousand pixels (160 x 60 = 9,600).
 */
export const MAX_IMAGE_PIXELS = 4096 * 4096;

/**
 * Most an image is enlarged per side to reach the model's input: an image smaller than
 * 1/MAX_UPSCALE of the input's width or height is refused (for a 160x60 model, below 40x15), as
 * it is too small to hold a CAPTCHA the model could read: stretched up, it gets a confident answer
 * that means nothing.
 */
export const MAX_UPSCALE = 4;

export interface DecodeImageOptions {
  /** The model input the image is read for; images too small for it are refused (see {@link MAX_UPSCALE}). */
  input?: { width: number; height: number };
  /**
   * What the user should do about a truncated or corrupt file, ending the error message.
   * @default 'replace it with an intact copy'
   */
  fix?: string;
}

const DEFAULT_FIX = 'replace it with an intact copy';

/** RGBA (e.g. canvas ImageData) -> packed RGB; alpha is dropped. */
export function rgbaToRgb(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    data[i] = rgba[j];
    data[i + 1] = rgba[j + 1];
    data[i + 2] = rgba[j + 2];
  }
  return { width, height, data };
}

function megapixels(n: number): string {
  return `${(n / 1e6).toFixed(1)} megapixels`;
}

/**
 * Checks an image file's bytes without decoding its pixels: format, size limits, structure.
 * @returns the header (format, width, height)
 * @throws an error naming `name`, the problem and the fix
 */
export function checkImageBytes(bytes: Uint8Array, name: string, options: DecodeImageOptions = {}): ImageHeader {
  const fix = options.fix ?? DEFAULT_FIX;
  let header: ImageHeader;
  try {
    header = readImageHeader(bytes);
  } catch (err) {
    if (!(err instanceof ImageFormatError)) throw err;
    const convert = err.otherFormat && options.fix === undefined; // a file of the user's, not a damaged one of a dataset
    throw new Error(`image '${name}' cannot be read: ${err.message}; ${convert ? 'convert it to PNG or JPEG' : fix}`);
  }
  const { width, height } = header;
  if (width === 0 || height === 0) {
    throw new Error(`image '${name}' is ${width}x${height}: it has no pixels; ${fix}`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new Error(
      `image '${name}' is ${width}x${height} (${megapixels(width * height)}), more than the ${megapixels(MAX_IMAGE_PIXELS)} ` +
        `(4096x4096) decoded at most; crop or scale it down to the CAPTCHA${options.input ? ` (the model reads ${options.input.width}x${options.input.height})` : ''}`,
    );
  }
  const input = options.input;
  if (input) {
    const minWidth = Math.ceil(input.width / MAX_UPSCALE);
    const minHeight = Math.ceil(input.height / MAX_UPSCALE);
    if (width < minWidth || height < minHeight) {
      throw new Error(
        `image '${name}' is ${width}x${height}, too small to hold a CAPTCHA: the model reads ${input.width}x${input.height} ` +
          `and enlarges images at most ${MAX_UPSCALE}x per side, so it needs at least ${minWidth}x${minHeight}; ` +
          'pass the CAPTCHA at its original size',
      );
    }
  }
  const damage = findImageDamage(bytes, header);
  if (damage) throw new Error(`image '${name}' ${damage}; ${fix}`);
  return header;
}

function readImageFile(file: string, options: DecodeImageOptions): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`image '${file}' is missing or unreadable (${code}); ${options.fix ?? 'fix the path'}`);
  }
}

/** {@link checkImageBytes} of a file: read, but not decoded. */
export function checkImageFile(file: string, options: DecodeImageOptions = {}): ImageHeader {
  return checkImageBytes(readImageFile(file, options), file, options);
}

/**
 * Reads and decodes an image file.
 * @returns RGB image: `data` is uint8 `[height, width, 3]` row-major
 * @throws an error naming the file when it is missing, unreadable, not a PNG/JPEG, too big or too
 * small, or truncated or corrupt
 */
export async function decodeImageFile(file: string, options: DecodeImageOptions = {}): Promise<RgbImage> {
  return decodeImageBytesSync(readImageFile(file, options), file, options);
}

/**
 * Decodes PNG/JPEG bytes after {@link checkImageBytes}; `name` (a file name) is used in error
 * messages. Transparent pixels are composited on white, as a browser shows them on a page (a
 * CAPTCHA saved with a transparent background would otherwise come out black on black).
 */
export async function decodeImageBytes(bytes: Buffer, name = '(bytes)', options: DecodeImageOptions = {}): Promise<RgbImage> {
  return decodeImageBytesSync(bytes, name, options);
}

/** {@link decodeImageBytes}, synchronously (node-canvas decodes when the source is set). */
export function decodeImageBytesSync(bytes: Buffer, name: string, options: DecodeImageOptions = {}): RgbImage {
  const { header, image } = loadCheckedImage(bytes, name, options);
  const { width, height } = header;
  const ctx = canvasOfSize(width, height).getContext('2d');
  // White first: transparent pixels then show white, as on a web page (JPEGs cover it all anyway).
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(image, 0, 0);
  return rgbaToRgb(ctx.getImageData(0, 0, width, height).data, width, height);
}

/**
 * True when `bytes` are a whole image that decodes (to `expected`'s format and size, when given):
 * the check a dataset rerun makes of the images it keeps.
 */
export function isIntactImage(bytes: Buffer, expected?: ImageHeader): boolean {
  try {
    const { header } = loadCheckedImage(bytes, '');
    return !expected || (header.format === expected.format && header.width === expected.width && header.height === expected.height);
  } catch {
    return false;
  }
}

type CanvasImage = InstanceType<ReturnType<typeof loadCanvas>['Image']>;

/** {@link checkImageBytes}, then the decode, which must succeed and give the header's size. */
function loadCheckedImage(bytes: Buffer, name: string, options: DecodeImageOptions = {}): { header: ImageHeader; image: CanvasImage } {
  const header = checkImageBytes(bytes, name, options);
  const image = new (loadCanvas().Image)();
  let failure: Error | null = null;
  image.onerror = (err: Error) => {
    failure = err;
  };
  image.src = bytes;
  const fix = options.fix ?? DEFAULT_FIX;
  if (failure || !image.complete) {
    const why = (failure as Error | null)?.message ?? 'it decoded to no image';
    throw new Error(`image '${name}' is corrupt: the decoder says "${why}"; ${fix}`);
  }
  if (image.width !== header.width || image.height !== header.height) {
    throw new Error(
      `image '${name}' is corrupt: its header says ${header.width}x${header.height} but it decodes to ${image.width}x${image.height}; ${fix}`,
    );
  }
  return { header, image };
}
