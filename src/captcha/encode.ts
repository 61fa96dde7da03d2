/** Image files: RGB pixels -> PNG/JPEG bytes (node-canvas). */
import { canvasOfSize } from './canvas';
import type { RgbImage } from './raster';

export type ImageFormat = 'png' | 'jpg';
export const IMAGE_FORMATS: readonly ImageFormat[] = ['png', 'jpg'];

export interface EncodeOptions {
  /** JPEG quality 1-100 (Pillow's default is 75, as lepture saves). @default 75 */
  quality?: number;
}

export const DEFAULT_ENCODE_OPTIONS: Required<EncodeOptions> = { quality: 75 };

export function checkFormat(format: unknown): ImageFormat {
  if (format === 'jpeg') return 'jpg';
  if (!IMAGE_FORMATS.includes(format as ImageFormat)) {
    throw new Error(`image format must be 'png' or 'jpg', got ${JSON.stringify(format)}`);
  }
  return format as ImageFormat;
}

/**
 * Encodes an RGB image as PNG or JPEG (4:2:0, like Pillow's JPEG defaults).
 * @param image RGB, `height * width * 3` bytes
 */
export function encode(image: RgbImage, format: ImageFormat, options: EncodeOptions = {}): Buffer {
  const fmt = checkFormat(format);
  const { quality } = { ...DEFAULT_ENCODE_OPTIONS, ...options };
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new Error(`JPEG quality must be an integer 1-100, got ${JSON.stringify(quality)}`);
  }
  const { width: w, height: h, data } = image;
  if (data.length !== w * h * 3) throw new Error(`image data has ${data.length} bytes, expected ${w}x${h}x3 = ${w * h * 3}`);
  const canvas = canvasOfSize(w, h);
  const ctx = canvas.getContext('2d');
  const imageData = ctx.createImageData(w, h);
  const rgba = imageData.data;
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    rgba[j] = data[i];
    rgba[j + 1] = data[i + 1];
    rgba[j + 2] = data[i + 2];
    rgba[j + 3] = 255;
  }
  ctx.putImageData(imageData, 0, 0);
  return fmt === 'png'
    ? canvas.toBuffer('image/png')
    : canvas.toBuffer('image/jpeg', { quality: quality / 100, chromaSubsampling: true });
}
