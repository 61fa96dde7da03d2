/**
 * What differs between the two kinds of heads during training: how a batch's loss is computed
 * and trained on. Per-position models (one softmax per character) use `createTrainStep`; CTC
 * models use the CTC loss over their column sequence, with labels of any length.
 */
import * as tf from '@tensorflow/tfjs';
import {
  availableFusedKernels,
  installGradientOverrides,
  registerFusedKernels,
  withFusedKernels,
  type FusedKernelName,
} from '../backend/fused';
import type { LabeledBatch } from '../data/loader';
import { crnnLoss, textsToCtcLabels } from '../models';
import type { HeadKind } from '../models/types';
import { createTrainStep, perPositionLoss, type StepResult } from './step';

export interface HeadTraining {
  /** One optimizer step on the batch. `correct` is per head (empty for CTC). */
  step(batch: LabeledBatch): StepResult;
  /** Mean loss of the batch in inference mode, scalar. */
  evalLoss(batch: LabeledBatch): tf.Scalar;
  /** Frees what the step keeps beside the model and the optimizer (the fast path's Adam state). */
  dispose(): void;
}

export function createHeadTraining(head: HeadKind, model: tf.LayersModel, optimizer: tf.Optimizer, alphabet: string): HeadTraining {
  if (head === 'per-position') {
    const step = createTrainStep(model, optimizer);
    return {
      step: (batch) => step(batch.xs, batch.ys),
      evalLoss: (batch) =>
        tf.tidy(() => {
          const out = model.predict(batch.xs);
          return perPositionLoss((Array.isArray(out) ? out : [out]) as tf.Tensor[], batch.ys);
        }),
      dispose: () => step.dispose(),
    };
  }
  // The fast path's gradient replacements apply to any model on tfjs-node: ReLU and max-pool.
  const fused = availableFusedKernels().filter((k): k is FusedKernelName => k === 'reluGrad' || k === 'maxPoolGrad');
  if (fused.length > 0) {
    installGradientOverrides();
    registerFusedKernels();
  }
  // Labels stay on the host: the CTC loss builds its masks there, so it never has to read a tensor
  // back synchronously (which the WebGPU backend cannot do in Node).
  const labelsOf = (batch: LabeledBatch) => textsToCtcLabels(batch.texts, alphabet);
  return {
    step: (batch) => {
      const labels = labelsOf(batch);
      return {
        loss: withFusedKernels(fused, () => optimizer.minimize(() => crnnLoss(model, batch.xs, labels), true)) as tf.Scalar,
        correct: tf.tensor1d([], 'int32'),
      };
    },
    evalLoss: (batch) => crnnLoss(model, batch.xs, labelsOf(batch), { training: false }),
    dispose: () => undefined,
  };
}
