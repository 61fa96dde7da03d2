/**
 * Decoding image files (PNG, JPEG) to packed RGB bytes with node-canvas, the same decoder for
 * datasets, the reference sample and `predict`.
 */
import * as fs from 'fs';
import { createCanvas, loadImage } from 'canvas';

/** An 8-bit RGB image, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

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

/** Reads and decodes an image file; errors name the file and what is wrong with it. */
export async function decodeImageFile(file: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(file);
  } catch {
    throw new Error(`image '${file}' is missing or unreadable; regenerate the dataset or fix the path`);
  }
  let image;
  try {
    image = await loadImage(bytes);
  } catch (err) {
    throw new Error(`image '${file}' is corrupt or not a PNG/JPEG (${(err as Error).message}); regenerate it`);
  }
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  return rgbaToRgb(ctx.getImageData(0, 0, image.width, image.height).data, image.width, image.height);
}
