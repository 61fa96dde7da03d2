/**
 * Evaluating a model on batches of labelled images (a dataset split, a folder, fresh images).
 */
import type * as tf from '@tensorflow/tfjs';
import type { TextRules } from '../models/ctc';
import type { HeadKind } from '../models/types';
import { scorePredictions, type EvaluationReport } from './metrics';
import { predictTexts } from './predict';

export interface TextBatch {
  /** float32 [B, H, W, C] */
  xs: tf.Tensor4D;
  texts: string[];
  /** Other tensors of the batch (labels); disposed with it. */
  ys?: tf.Tensor;
}

export interface EvaluateOptions {
  alphabet: string;
  head: HeadKind;
  /** CTC models: decode only texts that follow these rules (`textRulesOf(metadata)`); greedy when unset. */
  textRules?: TextRules;
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
      predicted.push(...(await predictTexts(model, batch.xs, options.alphabet, options.head, options.textRules)));
      actual.push(...batch.texts);
    } finally {
      batch.xs.dispose();
      batch.ys?.dispose();
    }
    options.onProgress?.(actual.length);
  }
  return { ...scorePredictions(actual, predicted, options.alphabet), predictions: predicted, actual };
}
