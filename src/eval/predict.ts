/**
 * From model outputs to texts, for both kinds of heads, in batches with no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs';
import type { HeadKind, LogitShift, ModelMetadata, SourceSize, TextRules } from '../models';
import { ctcGreedyDecode, ctcConstrainedDecode, shiftLogits, textRulesOf } from '../models';
import type { RgbImage } from '../captcha';
import type { InputShape } from '../data/tensors';
import { secondLookAtZeroO } from './zero-o-reader';

/**
 * How to decode a saved model's output: CTC models read texts like those they were trained on
 * (`textRulesOf(metadata)`) unless `greedy`; per-position models read one character per head.
 */
export function decodingRules(metadata: ModelMetadata, head: HeadKind, greedy = false): TextRules | undefined {
  return head === 'ctc' && !greedy ? textRulesOf(metadata) : undefined;
}

/**
 * The 0-against-O calibration a saved model's CTC output is read with (`metadata.logitShift`,
 * written by `captcha-lab calibrate`), or undefined: per-position models, uncalibrated models, and
 * `greedy` (the raw output) have none.
 */
export function logitShiftOf(metadata: ModelMetadata, head: HeadKind, greedy = false): LogitShift | undefined {
  return head === 'ctc' && !greedy ? metadata.logitShift : undefined;
}

/** A calibration and the size each image of the batch had before it was fitted to the input. */
export interface SizedLogitShift {
  logitShift: LogitShift;
  sizes: readonly SourceSize[];
}

/**
 * The calibration to read one batch with: `logitShift` and the batch's image sizes, or undefined
 * without a shift. A batch that does not say its images' sizes cannot be calibrated: refused.
 */
export function batchCalibration(logitShift: LogitShift | undefined, batch: { sizes?: readonly SourceSize[] }): SizedLogitShift | undefined {
  if (!logitShift) return undefined;
  if (!batch.sizes) {
    throw new Error(
      'a calibrated model (logitShift) needs the size of each image before fitting, and this batch carries none; ' +
        'give batches with sizes (fileBatches, freshBatches, the loader), or read without the calibration',
    );
  }
  return { logitShift, sizes: batch.sizes };
}

/** A model's 0/O reader, its input, and the batch's images before fitting. */
export interface BatchSecondLook {
  reader: tf.LayersModel;
  input: InputShape;
  images: readonly RgbImage[];
}

/**
 * The second look at 0/O for one batch, or undefined without a reader. A batch that does not carry
 * its original images cannot have one: refused, with the fix.
 */
export function batchSecondLook(
  secondLook: { reader: tf.LayersModel; input: InputShape } | undefined,
  batch: { images?: readonly RgbImage[] },
): BatchSecondLook | undefined {
  if (!secondLook) return undefined;
  if (!batch.images) {
    throw new Error(
      "a model with a second look at 0/O (zeroOReader) needs each batch's original images, and this batch carries none; " +
        'give batches with images (fileBatches, freshBatches, the dataset loader), or read without it (--no-second-look)',
    );
  }
  return { ...secondLook, images: batch.images };
}

/**
 * Reads a batch of images. Per-position models: argmax of each head. CTC models: the best path
 * whose text follows `textRules` (length range, distinct characters: those of the model's
 * training texts, see `textRulesOf`), or greedy decoding (collapse repeats, drop blanks) when it
 * is not given; with `calibration`, after shifting the logits by each image's original size; with
 * `secondLook`, each 0 or O is then read again from the original image (src/eval/zero-o-reader.ts).
 * @param xs float32 [B, H, W, C]
 */
export async function predictTexts(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  alphabet: string,
  head: HeadKind,
  textRules?: TextRules,
  calibration?: SizedLogitShift,
  secondLook?: BatchSecondLook,
): Promise<string[]> {
  if (head === 'ctc') {
    const raw = model.predict(xs) as tf.Tensor3D;
    const logits = calibration ? shiftLogits(raw, calibration.logitShift, calibration.sizes, alphabet) : raw;
    try {
      const sequences = await (textRules ? ctcConstrainedDecode(logits, textRules) : ctcGreedyDecode(logits));
      const texts = sequences.map((seq) => seq.map((k) => alphabet[k]).join(''));
      if (!secondLook) return texts;
      // The reader learned from the model's own (unshifted) lean.
      return await secondLookAtZeroO(texts, raw, secondLook.images, secondLook.input, alphabet, secondLook.reader);
    } finally {
      tf.dispose([raw, logits]);
    }
  }
  const indices = tf.tidy(() => {
    const out = model.predict(xs);
    const heads = Array.isArray(out) ? out : [out];
    return tf.stack(heads.map((h) => tf.argMax(h, -1)), 1);
  });
  const [n, positions] = indices.shape;
  const values = await indices.data();
  indices.dispose();
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    for (let p = 0; p < positions; p++) s += alphabet[values[i * positions + p]];
    texts.push(s);
  }
  return texts;
}
