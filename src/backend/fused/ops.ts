/**
 * Ops over the fused kernels, for the tfjs-node backend only (callers check `fusedKernelActive`).
 * Each has a plain tfjs equivalent with the same maths, against which the tests compare it.
 */
import * as tf from '@tensorflow/tfjs';
import {
  BATCH_NORM_TRAINING_KERNEL,
  CONV_BIAS_ACT_KERNEL,
  registerFusedKernels,
  SPARSE_SOFTMAX_XENT_KERNEL,
  type BatchNormTrainingAttrs,
  type ConvBiasActAttrs,
} from './kernels';

/** Options of `conv2dBiasAct`. */
export interface Conv2dBiasActOptions {
  /** [rows, cols] step of the window. @default [1, 1] */
  strides?: [number, number];
  /** TensorFlow padding. @default 'valid' */
  padding?: 'same' | 'valid';
  /** Activation applied after the bias. @default 'relu' */
  activation?: 'relu' | 'linear';
}

export const DEFAULT_CONV2D_BIAS_ACT_OPTIONS: Required<Conv2dBiasActOptions> = {
  strides: [1, 1],
  padding: 'valid',
  activation: 'relu',
};

/**
 * `activation(conv2d(x, filter) + bias)` as one kernel with native gradients.
 * @param x float32 [B, H, W, Cin] (NHWC)
 * @param filter float32 [kh, kw, Cin, Cout]
 * @param bias float32 [Cout]
 * @returns float32 [B, H', W', Cout]
 */
export function conv2dBiasAct(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  bias: tf.Tensor1D,
  options: Conv2dBiasActOptions = {},
): tf.Tensor4D {
  registerFusedKernels();
  const attrs: ConvBiasActAttrs = { ...DEFAULT_CONV2D_BIAS_ACT_OPTIONS, ...options };
  return tf.engine().runKernel(CONV_BIAS_ACT_KERNEL, { x, filter, bias }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** What `batchNormTraining` returns. */
export interface BatchNormTrainingResult {
  /** Normalised, scaled and shifted input, same shape as x. */
  y: tf.Tensor4D;
  /** Batch mean per channel, float32 [C]. */
  mean: tf.Tensor1D;
  /** Biased batch variance per channel (the one that normalised), float32 [C]. */
  variance: tf.Tensor1D;
}

/**
 * Batch normalisation of an NHWC batch with its own statistics (training mode), one native op
 * forward and one backward. Equals tfjs's `batchNorm(x, mean, variance, offset, scale, epsilon)`
 * with `{mean, variance} = moments(x, [0, 1, 2])`, gradients through the statistics included.
 */
export function batchNormTraining(
  x: tf.Tensor4D,
  scale: tf.Tensor1D,
  offset: tf.Tensor1D,
  epsilon: number,
): BatchNormTrainingResult {
  registerFusedKernels();
  const attrs: BatchNormTrainingAttrs = { epsilon };
  const [y, mean, variance] = tf
    .engine()
    .runKernel(BATCH_NORM_TRAINING_KERNEL, { x, scale, offset }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { y: y as tf.Tensor4D, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/**
 * Per-example sparse softmax cross-entropy from logits: `-log(softmax(logits)[label])`, float32 [B].
 * Its gradient is `softmax - onehot`, computed by the same native op as the loss.
 * @param logits float32 [B, C]
 * @param labels int32 [B], each in [0, C)
 */
export function sparseSoftmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  registerFusedKernels();
  if (labels.dtype !== 'int32') throw new Error(`labels must be int32, got ${labels.dtype}`);
  const [loss, backprop] = tf.engine().runKernel(SPARSE_SOFTMAX_XENT_KERNEL, { logits, labels }) as tf.Tensor[];
  // The tape keeps its own reference to the gradient; the caller only wants the loss.
  backprop.dispose();
  return loss as tf.Tensor1D;
}
