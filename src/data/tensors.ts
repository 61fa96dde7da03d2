/**
 * Pixels -> model input tensors. Shared by the folder loader and the streaming generator so both
 * feed the network exactly the same representation.
 */
import * as tf from '@tensorflow/tfjs';

export interface InputShape {
  height: number;
  width: number;
  /** 3 keeps RGB; 1 converts to grayscale (ITU-R 601 luma, as Pillow's convert('L')). */
  channels: number;
}

/**
 * Packed RGB bytes of `count` images of `height` x `width` -> float32 [count, H', W', C] in 0-1,
 * converted to the target channels and bilinearly resized when the target size differs.
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
  return tf.tidy(() => {
    let x = tf.tensor4d(rgb, [count, height, width, 3], 'int32').toFloat().div(255) as tf.Tensor4D;
    if (target.channels === 1) {
      x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true) as tf.Tensor4D;
    } else if (target.channels !== 3) {
      throw new Error(`channels=${target.channels} is not supported; use 1 (grayscale) or 3 (RGB)`);
    }
    if (target.height !== height || target.width !== width) {
      x = tf.image.resizeBilinear(x, [target.height, target.width]);
    }
    return x;
  });
}
