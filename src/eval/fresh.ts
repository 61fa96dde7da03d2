/**
 * Freshly generated, labelled CAPTCHAs as evaluation batches: a test set no model has seen,
 * reproducible from its seed.
 */
import { CAPTCHA_SIDE, isCaptchaSide, type CaptchaVersion } from '../captcha';
import { createCaptchaStream } from '../data/captcha-stream';
import type { InputShape } from '../data/tensors';
import { pixelsToTensor, splitPackedImages } from '../data/tensors';
import type { TextBatch } from './evaluate';
import { textRulesOf, type ModelMetadata } from '../models/io';
import type { HeadKind } from '../models/types';

/**
 * The text length of a saved model's training images, for fresh test images like them: one
 * length, or [min, max] for a CTC model trained on several. 4 (the experiment's) when unrecorded.
 */
export function trainedTextLength(metadata: ModelMetadata): number | [number, number] {
  const rules = textRulesOf(metadata);
  if (!rules) return 4;
  return rules.min === rules.max ? rules.max : [rules.min, rules.max];
}

/** A text length for messages and reports: `4`, or `3-6` for a range. */
export function formatTextLength(length: number | readonly [number, number]): string {
  const [min, max] = typeof length === 'number' ? [length, length] : length;
  return min === max ? `${min}` : `${min}-${max}`;
}

/** Text lengths asked of `evaluate --fresh`: `--length`, `--min-length`, `--greedy`. */
export interface FreshLengthRequest {
  length?: number;
  minLength?: number;
  greedy?: boolean;
}

/**
 * The text length of fresh test CAPTCHAs: the model's training texts' (`trainedTextLength`)
 * unless `request` asks for others. A length the model cannot answer is refused here, with the
 * fix, rather than scored as 0%: a per-position model has one head per character, and a CTC
 * model decodes its training lengths unless read greedily.
 */
export function freshTextLength(metadata: ModelMetadata, head: HeadKind, request: FreshLengthRequest = {}): number | [number, number] {
  const trained = trainedTextLength(metadata);
  if (request.length === undefined && request.minLength === undefined) return trained;
  const [trainedMin, trainedMax] = typeof trained === 'number' ? [trained, trained] : trained;
  const max = request.length ?? trainedMax;
  const min = request.minLength ?? request.length ?? trainedMin;
  if (min > max) throw new Error(`--min-length ${min} is above the text length ${max}; give --length of at least ${min}`);
  if (head === 'per-position' && (min !== trainedMax || max !== trainedMax)) {
    throw new Error(
      `a per-position model reads exactly ${trainedMax} characters (one head each), not ${formatTextLength([min, max])}; ` +
        'drop --length/--min-length, or evaluate a CTC model',
    );
  }
  if (head === 'ctc' && !request.greedy && (min < trainedMin || max > trainedMax)) {
    throw new Error(
      `the model decodes texts of ${formatTextLength(trained)} characters (its training texts), not ${formatTextLength([min, max])}; ` +
        'add --greedy to read any length',
    );
  }
  return min === max ? max : [min, max];
}

/** Width and height of an image, px. */
export interface ImageSize {
  width: number;
  height: number;
}

/** `170x80` -> `{ width: 170, height: 80 }`; the error names the form. */
export function parseImageSize(text: string): ImageSize {
  const m = /^\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
  const size = m ? { width: Number(m[1]), height: Number(m[2]) } : null;
  if (!size || !isCaptchaSide(size.width) || !isCaptchaSide(size.height)) {
    throw new Error(`image size must be WIDTHxHEIGHT in pixels, ${CAPTCHA_SIDE.min} to ${CAPTCHA_SIDE.max} each (e.g. 170x80), got '${text}'`);
  }
  return size;
}

export interface FreshSetOptions {
  count: number;
  /** Use a seed no training run used. */
  seed: number | string;
  /** Model input: images are fitted to it (its `fit`), as predict fits image files. */
  input: InputShape;
  /** Size the images are generated at. @default the input's */
  imageSize?: ImageSize;
  alphabet: string;
  /** Text length, or [min, max]. */
  length: number | readonly [number, number];
  captchaVersion: CaptchaVersion;
  /** @default 128 */
  batchSize?: number;
}

export async function* freshBatches(options: FreshSetOptions): AsyncGenerator<TextBatch> {
  const { count, seed, input, alphabet, length, captchaVersion, imageSize = input } = options;
  // never more than asked for: items are seeded by their index, so the batch size changes no image
  const batchSize = options.batchSize ?? Math.min(128, count);
  if (!Number.isInteger(count) || count <= 0) throw new Error(`fresh image count must be a positive integer, got ${count}`);
  const stream = createCaptchaStream({
    batchSize,
    seed: `fresh/${seed}`,
    captcha: { width: imageSize.width, height: imageSize.height, version: captchaVersion },
    text: { length, alphabet },
  });
  try {
    for (let left = count; left > 0; left -= batchSize) {
      const b = await stream.next();
      const keep = Math.min(left, b.batchSize);
      const pixels = b.pixels.subarray(0, keep * b.height * b.width * 3);
      const images = splitPackedImages(pixels, keep, b.height, b.width);
      const sizes = images.map(({ width, height }) => ({ width, height }));
      yield { xs: pixelsToTensor(pixels, keep, b.height, b.width, input), texts: b.texts.slice(0, keep), sizes, images };
    }
  } finally {
    await stream.close();
  }
}
