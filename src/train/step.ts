/**
 * One training step of a per-position model (one softmax head per character):
 * forward, summed cross-entropy of the heads, backward, optimizer update.
 *
 * The step returns tensors, not numbers: reading them forces the host to wait for the device, so
 * the caller decides when it is worth it (e.g. every few batches for the progress bar).
 */
import * as tf from '@tensorflow/tfjs';

export interface StepResult {
  /** Summed loss of all heads, scalar float32. Dispose after reading. */
  loss: tf.Scalar;
  /** Correct predictions per head in this batch, int32 [numPositions]. Dispose after reading. */
  correct: tf.Tensor1D;
}

/** Keras clips probabilities by 1e-7 before the log; we do the same so losses are comparable. */
const EPSILON = 1e-7;

/**
 * Per-head sparse categorical cross-entropy from softmax probabilities, summed over heads.
 * @param probs one [B, numClasses] float32 tensor per head
 * @param labels int32 [B, numPositions]
 */
export function perPositionLoss(probs: tf.Tensor[], labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = probs[0].shape[1] as number;
    const losses = probs.map((p, i) => {
      const oneHot = tf.oneHot(labels.slice([0, i], [-1, 1]).reshape([-1]), numClasses);
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(p, EPSILON, 1 - EPSILON))), -1)));
    });
    return tf.addN(losses) as tf.Scalar;
  });
}

/** Correct predictions per head, int32 [numPositions]. */
export function correctPerHead(probs: tf.Tensor[], labels: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() =>
    tf.stack(
      probs.map((p, i) => tf.equal(tf.argMax(p, -1), labels.slice([0, i], [-1, 1]).reshape([-1])).sum()),
    ) as tf.Tensor1D,
  );
}

export type TrainStep = (xs: tf.Tensor4D, labels: tf.Tensor2D) => StepResult;

/** A training step function bound to `model` and `optimizer`. */
export function createTrainStep(model: tf.LayersModel, optimizer: tf.Optimizer): TrainStep {
  return (xs, labels) => {
    let correct: tf.Tensor1D | undefined;
    const loss = optimizer.minimize(() => {
      const out = model.apply(xs, { training: true });
      const probs = (Array.isArray(out) ? out : [out]) as tf.Tensor[];
      correct = tf.keep(correctPerHead(probs, labels));
      return perPositionLoss(probs, labels);
    }, true) as tf.Scalar;
    return { loss, correct: correct as tf.Tensor1D };
  };
}
