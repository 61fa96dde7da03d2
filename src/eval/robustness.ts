/**
 * How a model's accuracy moves when its input moves: the same fresh CAPTCHAs shifted by a pixel
 * or two, or scaled a little. Shows what a model has learnt to rely on: the generator centres
 * every character's box vertically, so a model can lean on rows and heights, and a model that
 * loses accuracy on moved copies gains nothing from averaging its readings of them
 * (test-time augmentation).
 */
import * as tf from '@tensorflow/tfjs';
import type { CaptchaVersion } from '../captcha';
import type { TextRules } from '../models/ctc';
import type { LoadedModel } from '../models/io';
import { getModelSpec } from '../models/registry';
import type { HeadKind } from '../models/types';
import type { TextBatch } from './evaluate';
import { freshBatches, trainedTextLength } from './fresh';
import { scorePredictions } from './metrics';
import { decodingRules, predictTexts } from './predict';

/** A change of the input image: content moved right by `dx`, down by `dy`, scaled about the centre. */
export interface ImageView {
  name: string;
  /** Pixels to the right (negative: left), an integer. @default 0 */
  dx?: number;
  /** Pixels down (negative: up), an integer. @default 0 */
  dy?: number;
  /** Scale factor about the image centre, in (0.5, 2). @default 1 */
  scale?: number;
}

export const DEFAULT_IMAGE_VIEWS: readonly ImageView[] = [
  { name: 'as generated' },
  { name: '1 px right', dx: 1 },
  { name: '1 px left', dx: -1 },
  { name: '2 px right', dx: 2 },
  { name: '2 px left', dx: -2 },
  { name: '1 px down', dy: 1 },
  { name: '1 px up', dy: -1 },
  { name: '2 px down', dy: 2 },
  { name: '2 px up', dy: -2 },
  { name: 'scaled 95%', scale: 0.95 },
  { name: 'scaled 105%', scale: 1.05 },
];

/**
 * Checks a view before any work is done, naming the view and the value at fault.
 * @param height,width the images' size: a shift must leave part of the image in place
 */
export function checkView(view: ImageView, height: number, width: number): void {
  const { name, dx = 0, dy = 0, scale = 1 } = view;
  for (const [key, value, size] of [['dx', dx, width], ['dy', dy, height]] as const) {
    if (!Number.isInteger(value)) throw new Error(`view '${name}': ${key}=${value} must be a whole number of pixels`);
    if (Math.abs(value) >= size) throw new Error(`view '${name}': ${key}=${value} moves the whole ${width}x${height} image out; use |${key}| < ${size}`);
  }
  // Below 0.5 the mirrored border would have to be wider than the image itself.
  if (!(scale > 0.5 && scale < 2)) throw new Error(`view '${name}': scale=${scale} must be between 0.5 and 2 (exclusive)`);
}

/**
 * Applies a view to a batch. The pixels uncovered at the edges are mirrored from the image (the
 * background of a CAPTCHA continues, no black bar for the model to notice).
 * @param xs float32 [B, H, W, C]
 * @returns a new tensor of the same shape
 */
export function transformImages(xs: tf.Tensor4D, view: Omit<ImageView, 'name'> & { name?: string }): tf.Tensor4D {
  const { dx = 0, dy = 0, scale = 1 } = view;
  const [, h, w] = xs.shape;
  checkView({ name: 'unnamed', ...view }, h, w);
  return tf.tidy(() => {
    let x: tf.Tensor4D = xs;
    if (scale !== 1) x = scaleAboutCentre(x, scale);
    if (dx !== 0 || dy !== 0) {
      // Pad on the side the content moves away from, then cut the far side off.
      const [top, bottom, left, right] = [Math.max(dy, 0), Math.max(-dy, 0), Math.max(dx, 0), Math.max(-dx, 0)];
      x = tf.mirrorPad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], 'symmetric');
      x = tf.slice(x, [0, bottom, right, 0], [-1, h, w, -1]);
    }
    return x === xs ? tf.clone(xs) : x;
  });
}

/**
 * Bilinear resampling that maps the image centre onto itself exactly (a resize followed by a crop
 * would move it by half a pixel whenever the size difference is odd). Output pixel i reads the
 * source at centre + (i - centre) / scale, from the image mirrored outwards where that falls outside.
 */
function scaleAboutCentre(xs: tf.Tensor4D, scale: number): tf.Tensor4D {
  const [n, h, w] = xs.shape;
  // A shrunk image reads up to (size - 1) / 2 * (1 / scale - 1) pixels beyond each edge.
  const padY = scale < 1 ? Math.ceil(((h - 1) / 2) * (1 / scale - 1)) + 1 : 0;
  const padX = scale < 1 ? Math.ceil(((w - 1) / 2) * (1 / scale - 1)) + 1 : 0;
  const padded = padY || padX ? tf.mirrorPad(xs, [[0, 0], [padY, padY], [padX, padX], [0, 0]], 'symmetric') : xs;
  const [, hp, wp] = padded.shape;
  // cropAndResize boxes are in [0, 1] of (size - 1), corners aligned: centred boxes keep the centre.
  const halfY = (h - 1) / (2 * scale) / (hp - 1);
  const halfX = (w - 1) / (2 * scale) / (wp - 1);
  const box = [0.5 - halfY, 0.5 - halfX, 0.5 + halfY, 0.5 + halfX];
  const boxes = tf.tensor2d(Array.from({ length: n }, () => box), [n, 4]);
  const indices = tf.range(0, n, 1, 'int32') as tf.Tensor1D;
  return tf.image.cropAndResize(padded, boxes, indices, [h, w], 'bilinear');
}

export interface ViewAccuracy {
  view: string;
  wholeAccuracy: number;
  characterAccuracy: number;
}

export interface RobustnessOptions {
  alphabet: string;
  head: HeadKind;
  /** CTC models: decode texts like the training texts (`textRulesOf(metadata)`). */
  textRules?: TextRules;
  /** @default DEFAULT_IMAGE_VIEWS */
  views?: readonly ImageView[];
}

/** Reads every batch once per view; one accuracy row per view, in the order given. */
export async function evaluateViews(
  model: tf.LayersModel,
  batches: AsyncIterable<TextBatch>,
  options: RobustnessOptions,
): Promise<ViewAccuracy[]> {
  const { alphabet, head, textRules, views = DEFAULT_IMAGE_VIEWS } = options;
  const predicted = views.map(() => [] as string[]);
  const actual: string[] = [];
  let checked = false;
  for await (const batch of batches) {
    try {
      if (!checked) {
        const [, h, w] = batch.xs.shape;
        for (const view of views) checkView(view, h, w);
        checked = true;
      }
      for (const [i, view] of views.entries()) {
        const xs = transformImages(batch.xs, view);
        try {
          predicted[i].push(...(await predictTexts(model, xs, alphabet, head, textRules)));
        } finally {
          xs.dispose();
        }
      }
      actual.push(...batch.texts);
    } finally {
      batch.xs.dispose();
      batch.ys?.dispose();
    }
  }
  return views.map((view, i) => {
    const { wholeAccuracy, characterAccuracy } = scorePredictions(actual, predicted[i], alphabet);
    return { view: view.name, wholeAccuracy, characterAccuracy };
  });
}

export interface FreshViewsOptions {
  /** Fresh CAPTCHAs to read. @default 2000 */
  count?: number;
  /** Their seed: use one no training run used. @default 424242 */
  seed?: number | string;
  /** @default DEFAULT_IMAGE_VIEWS */
  views?: readonly ImageView[];
  /** CTC models: greedy decoding instead of texts like the training texts. @default false */
  greedy?: boolean;
  /** Generator algorithm: that of the model's training images (`run.json` config). @default '0.7.0' */
  captchaVersion?: CaptchaVersion;
}

/**
 * {@link evaluateViews} of a loaded model on fresh CAPTCHAs like its training images (size,
 * alphabet, length from its metadata), decoded with the model's text rules as `evaluate` decodes
 * them, but without a 0/O calibration (`logitShift`): a moved copy is not an image of another size.
 */
export async function evaluateViewsOnFresh(loaded: LoadedModel, options: FreshViewsOptions = {}): Promise<ViewAccuracy[]> {
  const { count = 2000, seed = 424242, views = DEFAULT_IMAGE_VIEWS, greedy = false, captchaVersion = '0.7.0' } = options;
  const { model, metadata } = loaded;
  const { alphabet, input } = metadata;
  const head = getModelSpec(metadata.architecture).head;
  const textRules = decodingRules(metadata, head, greedy);
  const batches = freshBatches({ count, seed, input, alphabet, length: trainedTextLength(metadata), captchaVersion });
  return evaluateViews(model, batches, { alphabet, head, textRules, views });
}
