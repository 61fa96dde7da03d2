/**
 * Training on the streaming generator: every epoch draws fresh images (batch k of the run is
 * image block k of one seeded sequence, so a resumed run sees exactly the images it would have
 * seen), and validation uses a fixed set generated once from a separate seed.
 */
import * as tf from '@tensorflow/tfjs';
import { createCaptchaStream, type CaptchaBatch, type CaptchaStreamOptions } from '../data/captcha-stream';
import { encodeLabels } from '../data/labels';
import type { LabeledBatch } from '../data/loader';
import { pixelsToTensor, splitPackedImages, type InputShape } from '../data/tensors';
import type { HeadKind } from '../models/types';
import type { TrainConfig } from './config';
import type { TrainingData } from './data-source';

/** Generator settings of a run's stream: images at the model's input size, the run's texts. */
export function streamOptions(config: TrainConfig, input: InputShape, seed: string): CaptchaStreamOptions {
  return {
    batchSize: config.batchSize,
    seed,
    captcha: { width: input.width, height: input.height, version: config.captchaVersion },
    mix: config.mix,
    text: {
      length: config.minLength ? [config.minLength, config.length] : config.length,
      alphabet: config.alphabet,
      unique: true,
    },
    workers: config.workers === 0 ? undefined : config.workers,
  };
}

/**
 * A generated batch as model input. CTC labels may vary in length, so `ys` then holds the class
 * indices padded with -1 (the CTC step encodes its own labels from `texts`).
 */
export function toLabeledBatch(batch: Pick<CaptchaBatch, 'pixels' | 'texts' | 'height' | 'width'>, input: InputShape, alphabet: string, head: HeadKind): LabeledBatch {
  const n = batch.texts.length;
  const xs = pixelsToTensor(batch.pixels, n, batch.height, batch.width, input);
  let ys: tf.Tensor2D;
  if (head === 'per-position') {
    ys = tf.tensor2d(encodeLabels(batch.texts, alphabet, batch.texts[0].length), [n, batch.texts[0].length], 'int32');
  } else {
    const width = Math.max(...batch.texts.map((t) => t.length));
    const codes = new Int32Array(n * width).fill(-1);
    batch.texts.forEach((t, i) => [...t].forEach((c, j) => (codes[i * width + j] = alphabet.indexOf(c))));
    ys = tf.tensor2d(codes, [n, width], 'int32');
  }
  const images = splitPackedImages(batch.pixels, n, batch.height, batch.width);
  return { xs, ys, texts: batch.texts, indices: [], sizes: images.map(({ width, height }) => ({ width, height })), images };
}

/** `versions 0.7.0, 0.2.2 at 140-170 x 60-80 px` */
function describeMix(mix: NonNullable<TrainConfig['mix']>): string {
  return `versions ${mix.versions.join(', ')} at ${mix.width.join('-')} x ${mix.height.join('-')} px`;
}

export async function createStreamTrainingData(config: TrainConfig, input: InputShape, head: HeadKind): Promise<TrainingData> {
  if (config.minLength !== undefined && head === 'per-position') {
    throw new Error(`minLength=${config.minLength}: variable-length texts need a CTC model (--model crnn); per-position models read exactly ${config.length} characters`);
  }
  const batchesPerEpoch = Math.ceil(config.imagesPerEpoch / config.batchSize);
  // The validation set: generated once, kept as bytes (2,048 images of 160x60 are 59 MB).
  // A mix varies per block, so its blocks are small enough to cover many versions and sizes.
  const validationBlock = config.mix ? 32 : 256;
  const validation: CaptchaBatch[] = [];
  const valStream = createCaptchaStream({ ...streamOptions(config, input, `${config.seed}/validation`), batchSize: validationBlock });
  try {
    for (let left = config.validationImages; left > 0; left -= validationBlock) {
      const b = await valStream.next();
      const keep = Math.min(left, b.batchSize);
      const pixelsPerImage = b.height * b.width * 3;
      validation.push({ ...b, pixels: b.pixels.subarray(0, keep * pixelsPerImage), texts: b.texts.slice(0, keep), batchSize: keep });
    }
  } finally {
    await valStream.close();
  }
  return {
    description:
      `fresh generated images${config.mix ? ` (${describeMix(config.mix)})` : ''}: ` +
      `${batchesPerEpoch * config.batchSize} per epoch, ${config.validationImages} fixed validation images`,
    batchesPerEpoch,
    trainCount: batchesPerEpoch * config.batchSize,
    validationCount: config.validationImages,
    distinctCharacters: true, // streamOptions draws texts without repeats, as the experiment did
    async *epochBatches(epoch, start) {
      const stream = createCaptchaStream({ ...streamOptions(config, input, `${config.seed}/train`), startBatch: epoch * batchesPerEpoch + start });
      try {
        for (let k = start; k < batchesPerEpoch; k++) yield toLabeledBatch(await stream.next(), input, config.alphabet, head);
      } finally {
        await stream.close();
      }
    },
    async *validationBatches(batchSize) {
      if (config.mix) {
        // Blocks differ in size: each is fitted to the input on its own.
        for (const b of validation) yield toLabeledBatch(b, input, config.alphabet, head);
        return;
      }
      // Re-cut the stored blocks into batches of the requested size.
      const texts = validation.flatMap((b) => b.texts);
      const { height, width } = validation[0];
      const pixelsPerImage = height * width * 3;
      const all = validation.length === 1 ? validation[0].pixels : Buffer.concat(validation.map((b) => b.pixels));
      for (let i = 0; i < texts.length; i += batchSize) {
        const end = Math.min(texts.length, i + batchSize);
        yield toLabeledBatch({ pixels: all.subarray(i * pixelsPerImage, end * pixelsPerImage), texts: texts.slice(i, end), height, width }, input, config.alphabet, head);
      }
    },
    close: async () => undefined,
  };
}
