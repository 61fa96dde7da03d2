/**
 * Decoding image files (PNG, JPEG) to packed RGB bytes with node-canvas (libpng, libjpeg): the
 * same decoder for datasets, the reference sample and `predict`.
 */
import * as fs from 'fs';
import { loadCanvas, type RgbImage } from '../captcha';

export type { RgbImage };

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

/**
 * Reads and decodes an image file.
 * @returns RGB image: `data` is uint8 `[height, width, 3]` row-major
 * @throws an error naming the file when it is missing, unreadable or not a PNG/JPEG
 */
export async function decodeImageFile(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`image '${file}' is missing or unreadable (${code}); regenerate the dataset or fix the path`);
  }
  return decodeImageBytes(bytes, file);
}

/** Decodes PNG/JPEG bytes; `name` (a file name) is used in error messages. */
export async function decodeImageBytes(bytes: Buffer, name = '(bytes)'): Promise<RgbImage> {
  const { loadImage, createCanvas } = loadCanvas();
  let image: Awaited<ReturnType<typeof loadImage>>;
  try {
    image = await loadImage(bytes);
  } catch (err) {
    throw new Error(`image '${name}' is corrupt or not a PNG/JPEG (${(err as Error).message}); regenerate it`);
  }
  const { width, height } = image;
  const ctx = createCanvas(width, height).getContext('2d');
  ctx.drawImage(image, 0, 0);
  return rgbaToRgb(ctx.getImageData(0, 0, width, height).data, width, height);
}
