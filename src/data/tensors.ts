/**
 * Pixels -> model input tensors. Shared by the folder loader and the streaming generator so both
 * feed the network exactly the same representation.
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../captcha';

/**
 * How an image of another size is fitted to the input. `stretch` scales width and height apart
 * (a 140x80 CAPTCHA's glyphs come out 1.5x wider relative to their height than a 160x60 one's,
 * and lepture's 0 and O differ only in the shape of their strokes); `letterbox` scales both by the same factor, the largest
 * that fits, centres the result and fills the rest white (lepture's backgrounds are near-white).
 */
export const INPUT_FITS = ['stretch', 'letterbox'] as const;
export type InputFit = (typeof INPUT_FITS)[number];

export function isInputFit(value: unknown): value is InputFit {
  return (INPUT_FITS as readonly unknown[]).includes(value);
}

export interface InputShape {
  height: number;
  width: number;
  /** 3 keeps RGB; 1 converts to grayscale (ITU-R 601 luma, as Pillow's convert('L')). */
  channels: number;
  /** How other sizes are fitted; absent means `stretch` (models saved before letterboxing). */
  fit?: InputFit;
}

/** Where a `letterbox` fit puts a `width` x `height` image inside the input: scaled size and offsets. */
export function letterboxBox(width: number, height: number, target: { width: number; height: number }): { width: number; height: number; top: number; left: number } {
  const scale = Math.min(target.width / width, target.height / height);
  const w = Math.min(target.width, Math.max(1, Math.round(width * scale)));
  const h = Math.min(target.height, Math.max(1, Math.round(height * scale)));
  return { width: w, height: h, top: Math.floor((target.height - h) / 2), left: Math.floor((target.width - w) / 2) };
}

/** Packed RGB bytes of `count` images of `height` x `width`, as one image each (views, no copy). */
export function splitPackedImages(rgb: Uint8Array, count: number, height: number, width: number): RgbImage[] {
  const bytes = height * width * 3;
  return Array.from({ length: count }, (_, i) => ({ width, height, data: rgb.subarray(i * bytes, (i + 1) * bytes) }));
}

/**
 * Packed RGB bytes of `count` images of `height` x `width` -> float32 [count, H', W', C] in 0-1,
 * converted to the target channels and bilinearly resized when the target size differs
 * (stretched, or letterboxed: see {@link INPUT_FITS}).
 */
export function pixelsToTensor(
  rgb: Uint8Array,
  count: number,
  height: number,
  width: number,
  target: InputShape,
): tf.Tensor4D {
  if (rgb.length !== count * height * width * 3) {
    throw new Error(`expected ${count}x${height}x${width}x3 RGB bytes, got ${rgb.length}`);
  }
  if (target.fit !== undefined && !isInputFit(target.fit)) {
    throw new Error(`input fit '${target.fit}' is not one of ${INPUT_FITS.join(', ')}`);
  }
  return tf.tidy(() => {
    let x = tf.tensor4d(rgb, [count, height, width, 3], 'int32').toFloat().div(255) as tf.Tensor4D;
    if (target.channels === 1) {
      x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true) as tf.Tensor4D;
    } else if (target.channels !== 3) {
      throw new Error(`channels=${target.channels} is not supported; use 1 (grayscale) or 3 (RGB)`);
    }
    if (target.height !== height || target.width !== width) {
      if ((target.fit ?? 'stretch') === 'stretch') {
        x = tf.image.resizeBilinear(x, [target.height, target.width]);
      } else {
        const box = letterboxBox(width, height, target);
        if (box.height !== height || box.width !== width) x = tf.image.resizeBilinear(x, [box.height, box.width]);
        const rest = (size: number, at: number, total: number): [number, number] => [at, total - size - at];
        x = tf.pad(x, [[0, 0], rest(box.height, box.top, target.height), rest(box.width, box.left, target.width), [0, 0]], 1);
      }
    }
    return x;
  });
}
