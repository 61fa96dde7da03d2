/**
 * How a model's accuracy moves when its input moves: the same fresh CAPTCHAs shifted by a pixel
 * or two, or scaled a little. Shows what a model has learnt to rely on (the generator always
 * centres the text vertically, so a model may read heights and rows, not shapes) and why
 * averaging over shifted copies (test-time augmentation) cannot help such a model.
 */
import * as tf from '@tensorflow/tfjs';
import type { TextRules } from '../models/ctc';
import { textRulesOf, type LoadedModel } from '../models/io';
import { getModelSpec } from '../models/registry';
import type { HeadKind } from '../models/types';
import type { TextBatch } from './evaluate';
import { freshBatches } from './fresh';
import { scorePredictions } from './metrics';
import { predictTexts } from './predict';

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
 * Applies a view to a batch. The pixels uncovered at the edges are mirrored from the image (the
 * background of a CAPTCHA continues, no black bar for the model to notice).
 * @param xs float32 [B, H, W, C]
 * @returns a new tensor of the same shape
 */
export function transformImages(xs: tf.Tensor4D, view: Omit<ImageView, 'name'>): tf.Tensor4D {
  const { dx = 0, dy = 0, scale = 1 } = view;
  const [, h, w] = xs.shape;
  if (!Number.isInteger(dx) || !Number.isInteger(dy) || Math.abs(dx) >= w || Math.abs(dy) >= h) {
    throw new Error(`shift (${dx}, ${dy}) must be whole pixels, smaller than the ${w}x${h} image; scale it for finer moves`);
  }
  if (!(scale > 0.5 && scale < 2)) throw new Error(`scale ${scale} must be between 0.5 and 2 (exclusive)`);
  return tf.tidy(() => {
    let x: tf.Tensor4D = xs;
    if (scale !== 1) {
      const sh = Math.round(h * scale);
      const sw = Math.round(w * scale);
      x = tf.image.resizeBilinear(x, [sh, sw]);
      x = sh >= h && sw >= w ? cropCentre(x, h, w) : padCentre(x, h, w);
    }
    if (dx !== 0 || dy !== 0) {
      // Pad on the side the content moves away from, then cut the far side off.
      const [top, bottom, left, right] = [Math.max(dy, 0), Math.max(-dy, 0), Math.max(dx, 0), Math.max(-dx, 0)];
      x = tf.mirrorPad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], 'symmetric');
      x = tf.slice(x, [0, bottom, right, 0], [-1, h, w, -1]);
    }
    return x === xs ? tf.clone(xs) : x;
  });
}

function cropCentre(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, sh, sw] = x.shape;
  return tf.slice(x, [0, Math.floor((sh - h) / 2), Math.floor((sw - w) / 2), 0], [-1, h, w, -1]);
}

function padCentre(x: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, sh, sw] = x.shape;
  const top = Math.floor((h - sh) / 2);
  const left = Math.floor((w - sw) / 2);
  return tf.mirrorPad(x, [[0, 0], [top, h - sh - top], [left, w - sw - left], [0, 0]], 'symmetric');
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
  for await (const batch of batches) {
    try {
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
}

/**
 * {@link evaluateViews} of a loaded model on fresh CAPTCHAs like its training images (size,
 * alphabet, length from its metadata), decoded as `evaluate` decodes them.
 */
export async function evaluateViewsOnFresh(loaded: LoadedModel, options: FreshViewsOptions = {}): Promise<ViewAccuracy[]> {
  const { count = 2000, seed = 424242, views = DEFAULT_IMAGE_VIEWS, greedy = false } = options;
  const { model, metadata } = loaded;
  const { alphabet, input } = metadata;
  const head = getModelSpec(metadata.architecture).head;
  const trained = textRulesOf(metadata);
  const textRules = head === 'ctc' && !greedy ? trained : undefined;
  // The texts of its training images: one length, or a range for a CTC model trained on several.
  const length = !trained ? 4 : trained.min === trained.max ? trained.max : ([trained.min, trained.max] as const);
  const batches = freshBatches({ count, seed, input, alphabet, length, captchaVersion: '0.7.0' });
  return evaluateViews(model, batches, { alphabet, head, textRules, views });
}
