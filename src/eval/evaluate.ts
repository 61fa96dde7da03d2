/**
 * Evaluating a model on batches of labelled images (a dataset split, a folder, fresh images).
 */
import type * as tf from '@tensorflow/tfjs';
import type { TextRules } from '../models/ctc';
import type { LogitShift, SourceSize } from '../models/logit-shift';
import type { HeadKind } from '../models/types';
import type { RgbImage } from '../captcha';
import type { InputShape } from '../data/tensors';
import { scorePredictions, type EvaluationReport } from './metrics';
import { batchCalibration, batchSecondLook, predictTexts } from './predict';

export interface TextBatch {
  /** float32 [B, H, W, C] */
  xs: tf.Tensor4D;
  texts: string[];
  /** Other tensors of the batch (labels); disposed with it. */
  ys?: tf.Tensor;
  /** Each image's size before it was fitted to the model input (needed by a calibrated model). */
  sizes?: SourceSize[];
  /** The images themselves before fitting (needed by a model's second look at 0/O). */
  images?: RgbImage[];
}

export interface EvaluateOptions {
  alphabet: string;
  head: HeadKind;
  /** CTC models: decode only texts that follow these rules (`textRulesOf(metadata)`); greedy when unset. */
  textRules?: TextRules;
  /** CTC models: the 0/O calibration by image size (`logitShiftOf(metadata, head)`); batches must carry `sizes`. */
  logitShift?: LogitShift;
  /** CTC models: the second look at 0/O (`LoadedModel.zeroOReader`) and the model's input; batches must carry `images`. */
  secondLook?: { reader: tf.LayersModel; input: InputShape };
  /** Called after each batch with the number of images read so far. */
  onProgress?: (done: number) => void;
}

/** Reads every batch, disposes it, and scores all predictions at once. */
export async function evaluateModel(
  model: tf.LayersModel,
  batches: AsyncIterable<TextBatch>,
  options: EvaluateOptions,
): Promise<EvaluationReport & { predictions: string[]; actual: string[] }> {
  const actual: string[] = [];
  const predicted: string[] = [];
  for await (const batch of batches) {
    try {
      const calibration = batchCalibration(options.logitShift, batch);
      const secondLook = batchSecondLook(options.secondLook, batch);
      predicted.push(...(await predictTexts(model, batch.xs, options.alphabet, options.head, options.textRules, calibration, secondLook)));
      actual.push(...batch.texts);
    } finally {
      batch.xs.dispose();
      batch.ys?.dispose();
    }
    options.onProgress?.(actual.length);
  }
  return { ...scorePredictions(actual, predicted, options.alphabet), predictions: predicted, actual };
}
