/**
 * One training step of a per-position model (one softmax head per character):
 * forward, summed cross-entropy of the heads, backward, optimizer update.
 *
 * Two paths with the same maths:
 * - plain: `model.apply` + `optimizer.minimize`, tfjs's own kernels and gradients (any backend);
 * - fast (tfjs-node): fused native kernels and gradients from src/backend/fused — conv + bias +
 *   ReLU as one kernel, batch normalisation as FusedBatchNormV3, oneDNN's max-pool gradient,
 *   the loss from the heads' logits with SparseSoftmaxCrossEntropyWithLogits, and Adam as one
 *   native update per variable. Each replacement can be switched off (`kernels`).
 *
 * The step returns tensors, not numbers: reading them forces the host to wait for the device, so
 * the caller decides when it is worth it (e.g. every few batches for the progress bar).
 */
import * as tf from '@tensorflow/tfjs';
import {
  availableFusedKernels,
  createFusedAdam,
  describePlan,
  checkFusedKernelNames,
  FUSED_KERNEL_NAMES,
  fusedKernelActive,
  installGradientOverrides,
  planFusedForward,
  registerFusedKernels,
  runFusedForward,
  sparseSoftmaxCrossEntropy,
  withFusedKernels,
  type FusedForwardPlan,
  type FusedKernelName,
  type HeadOutput,
} from '../backend/fused';
import { withDefaults } from '../options';

export interface StepResult {
  /** Summed loss of all heads, scalar float32. Dispose after reading. */
  loss: tf.Scalar;
  /** Correct predictions per head in this batch, int32 [numPositions]. Dispose after reading. */
  correct: tf.Tensor1D;
}

/** Keras clips probabilities by 1e-7 before the log; we do the same so losses are comparable. */
const EPSILON = 1e-7;

function headLabels(labels: tf.Tensor2D, i: number): tf.Tensor1D {
  return labels.slice([0, i], [-1, 1]).reshape([-1]) as tf.Tensor1D;
}

/**
 * Per-head sparse categorical cross-entropy from softmax probabilities, summed over heads.
 * @param probs one [B, numClasses] float32 tensor per head
 * @param labels int32 [B, numPositions]
 */
export function perPositionLoss(probs: tf.Tensor[], labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = probs[0].shape[1] as number;
    const losses = probs.map((p, i) => {
      const oneHot = tf.oneHot(headLabels(labels, i), numClasses);
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(p, EPSILON, 1 - EPSILON))), -1)));
    });
    return tf.addN(losses) as tf.Scalar;
  });
}

/**
 * Correct predictions per head, int32 [numPositions]. Works on probabilities or logits alike
 * (softmax keeps the arg-max).
 */
export function correctPerHead(probs: tf.Tensor[], labels: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() =>
    tf.stack(probs.map((p, i) => tf.equal(tf.argMax(p, -1), headLabels(labels, i)).sum())) as tf.Tensor1D,
  );
}

/**
 * Summed mean cross-entropy of heads given as logits and/or probabilities; the same number as
 * `perPositionLoss` on the probabilities (up to its clipping at 1e-7).
 */
export function headsLoss(heads: HeadOutput[], labels: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const losses = heads.map(({ tensor, logits }, i) => {
      const y = headLabels(labels, i);
      if (!logits) return perPositionLoss([tensor], labels.slice([0, i], [-1, 1]) as tf.Tensor2D);
      if (fusedKernelActive('softmaxCrossEntropy')) return tf.mean(sparseSoftmaxCrossEntropy(tensor as tf.Tensor2D, y));
      const logProbs = tf.logSoftmax(tensor);
      return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, tensor.shape[1] as number), logProbs), -1)));
    });
    return tf.addN(losses) as tf.Scalar;
  });
}

export type TrainStep = (xs: tf.Tensor4D, labels: tf.Tensor2D) => StepResult;

/** Which path a step takes, for logs and run records. */
export interface TrainStepInfo {
  /** True when the fused native kernels are used. */
  fast: boolean;
  /** Replacements in use (empty on the plain path). */
  kernels: FusedKernelName[];
  /** How many layers run as each kind (fast path; filled at the first step). */
  layers?: Partial<Record<string, number>>;
}

/** A training step that also tells which path it takes. */
export type DescribedTrainStep = TrainStep & {
  readonly info: TrainStepInfo;
  /**
   * Frees the native state of the fast path (Adam's resource variables). The model and the
   * optimizer are untouched; a step that is simply dropped is freed when garbage-collected.
   */
  dispose(): void;
};

export interface TrainStepOptions {
  /**
   * Use the fused native kernels: `'auto'` when the active backend is tfjs-node's `tensorflow`
   * (elsewhere the plain path runs), `true` to require them, `false` for the plain path.
   * @default 'auto'
   */
  fast?: boolean | 'auto';
  /**
   * Replacements to use on the fast path (those the machine cannot run are skipped; see
   * `FUSED_KERNEL_DESCRIPTIONS`). Remove one to measure or rule it out.
   * @default every one in FUSED_KERNEL_NAMES
   */
  kernels?: readonly FusedKernelName[];
}

export const DEFAULT_TRAIN_STEP_OPTIONS: Required<TrainStepOptions> = {
  fast: 'auto',
  kernels: FUSED_KERNEL_NAMES,
};

function resolveKernels(options: Required<TrainStepOptions>): FusedKernelName[] {
  const { fast, kernels } = options;
  if (fast !== true && fast !== false && fast !== 'auto') {
    throw new Error(`train step option fast=${String(fast)} must be true, false or 'auto'`);
  }
  checkFusedKernelNames(kernels, ' in train step option kernels');
  if (fast === false) return [];
  const available = availableFusedKernels();
  if (fast === true && available.length === 0) {
    throw new Error(
      `train step option fast=true needs the 'tensorflow' backend (@tensorflow/tfjs-node), but the active backend is '${tf.getBackend()}'; use fast: 'auto' or false`,
    );
  }
  return kernels.filter((k) => available.includes(k));
}

function createPlainStep(model: tf.LayersModel, optimizer: tf.Optimizer): TrainStep {
  return (xs, labels) => {
    let correct: tf.Tensor1D | undefined;
    const loss = optimizer.minimize(() => {
      const out = model.apply(xs, { training: true }) as tf.Tensor | tf.Tensor[];
      const probs = Array.isArray(out) ? out : [out];
      correct = tf.keep(correctPerHead(probs, labels));
      return perPositionLoss(probs, labels);
    }, true) as tf.Scalar;
    return { loss, correct: correct as tf.Tensor1D };
  };
}

/**
 * The model's trainable variables in the engine's registration order: the order in which
 * `optimizer.minimize` hands gradients over, which tfjs optimizers use to index their slots.
 */
function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  const mine = new Set(model.trainableWeights.map((w) => (w.read() as tf.Variable).name));
  return Object.values(tf.engine().registeredVariables).filter((v) => v.trainable && mine.has(v.name));
}

function createFastStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  kernels: FusedKernelName[],
  info: TrainStepInfo,
): TrainStep & { dispose(): void } {
  installGradientOverrides();
  registerFusedKernels();
  const adam = kernels.includes('adam') ? createFusedAdam(optimizer) : undefined;
  if (!adam) info.kernels = kernels.filter((k) => k !== 'adam');
  let plan: FusedForwardPlan | undefined | null = null;
  const step: TrainStep = (xs, labels) =>
    withFusedKernels(kernels, () => {
      if (plan === null) {
        plan = planFusedForward(model, kernels);
        if (plan) info.layers = describePlan(plan);
      }
      const walked = plan;
      // Looked up every step: layers may be frozen or unfrozen between steps.
      const vars = trainableVariables(model);
      let correct: tf.Tensor1D | undefined;
      const { value, grads } = tf.variableGrads(() => {
        let heads: HeadOutput[];
        if (walked) heads = runFusedForward(walked, xs);
        else {
          const out = model.apply(xs, { training: true }) as tf.Tensor | tf.Tensor[];
          heads = (Array.isArray(out) ? out : [out]).map((tensor) => ({ tensor, logits: false }));
        }
        correct = tf.keep(correctPerHead(heads.map((h) => h.tensor), labels));
        return headsLoss(heads, labels);
      }, vars);
      if (adam) adam(grads);
      else optimizer.applyGradients(grads);
      tf.dispose(grads);
      return { loss: value as tf.Scalar, correct: correct as tf.Tensor1D };
    });
  return Object.assign(step, { dispose: () => adam?.dispose() });
}

/**
 * A training step function bound to `model` and `optimizer`.
 *
 * On tfjs-node it takes the fast path by default; `{ fast: false }` gives the plain one. Both
 * leave the model, its batch-norm statistics and the optimizer's state (`getWeights()`) in the
 * same state, so they can be swapped between steps and checkpoints stay compatible.
 */
export function createTrainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  options: TrainStepOptions = {},
): DescribedTrainStep {
  const opts = withDefaults(DEFAULT_TRAIN_STEP_OPTIONS, options);
  const kernels = resolveKernels(opts);
  const info: TrainStepInfo = { fast: kernels.length > 0, kernels };
  if (!info.fast) return Object.assign(createPlainStep(model, optimizer), { info, dispose: () => undefined });
  return Object.assign(createFastStep(model, optimizer, kernels, info), { info });
}
