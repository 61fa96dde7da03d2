/**
 * Image files -> model-ready batches (decoded, converted, fitted to the model input: resized or letterboxed, its `fit`).
 */
import type { LabeledFile } from '../data/labeled-files';
import { decodeImageFile } from '../data/image-file';
import { pixelsToTensor, type InputShape } from '../data/tensors';
import type { TextBatch } from './evaluate';

/** Batches of labelled files; images of any size are resized to `input` (images too small for it are refused). */
export async function* fileBatches(files: readonly LabeledFile[], input: InputShape, batchSize = 64): AsyncGenerator<TextBatch> {
  for (let i = 0; i < files.length; i += batchSize) {
    const chunk = files.slice(i, i + batchSize);
    const images = await Promise.all(chunk.map((f) => decodeImageFile(f.file, { input })));
    // Decoded images may differ in size: convert each, then stack.
    const sizes = images.map(({ width, height }) => ({ width, height }));
    const { height, width } = images[0];
    const same = images.every((im) => im.height === height && im.width === width);
    if (same) {
      const rgb = new Uint8Array(chunk.length * height * width * 3);
      images.forEach((im, k) => rgb.set(im.data, k * height * width * 3));
      yield { xs: pixelsToTensor(rgb, chunk.length, height, width, input), texts: chunk.map((f) => f.label), sizes, images };
    } else {
      const tf = await import('@tensorflow/tfjs');
      const parts = images.map((im) => pixelsToTensor(im.data, 1, im.height, im.width, input));
      const xs = tf.concat(parts) as typeof parts[0];
      parts.forEach((p) => p.dispose());
      yield { xs, texts: chunk.map((f) => f.label), sizes, images };
    }
  }
}
