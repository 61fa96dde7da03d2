/**
 * The fast path of training on tfjs-node: fused native kernels and gradients.
 *
 * `enableFusedKernels()` switches the replacements on for all code in the process (e.g. a plain
 * `model.fit`): the gradient overrides of ReLU and max-pooling apply everywhere, the new kernels
 * only where called (the training step's fused forward pass, `conv2dBiasAct`, ...).
 * `createTrainStep` in src/train uses them without touching the global switch.
 */
import {
  availableFusedKernels,
  checkFusedKernelNames,
  FUSED_KERNEL_NAMES,
  installGradientOverrides,
  registerFusedKernels,
  setActiveFusedKernels,
  uninstallGradientOverrides,
  unregisterFusedKernels,
  type FusedKernelName,
} from './kernels';

/**
 * Switches on `kernels` (default: every one this process can run) and returns the names switched
 * on. Returns [] when the active backend is not tfjs-node's `tensorflow`.
 */
export function enableFusedKernels(kernels: readonly FusedKernelName[] = FUSED_KERNEL_NAMES): FusedKernelName[] {
  checkFusedKernelNames(kernels);
  const available = new Set(availableFusedKernels());
  const enabled = kernels.filter((k) => available.has(k));
  if (enabled.length > 0) {
    installGradientOverrides();
    registerFusedKernels();
  }
  setActiveFusedKernels(enabled);
  return enabled;
}

/** Switches every replacement off and restores tfjs's own gradients and kernels. */
export function disableFusedKernels(): void {
  setActiveFusedKernels([]);
  uninstallGradientOverrides();
  unregisterFusedKernels();
}

export {
  availableFusedKernels,
  checkFusedKernelNames,
  FUSED_KERNEL_DESCRIPTIONS,
  FUSED_KERNEL_NAMES,
  fusedKernelActive,
  installGradientOverrides,
  oneDnnAvailable,
  oneDnnPoolingAvailable,
  registerFusedKernels,
  withFusedKernels,
  type FusedKernelName,
} from './kernels';
export {
  batchNormTraining,
  conv2dBiasAct,
  DEFAULT_CONV2D_BIAS_ACT_OPTIONS,
  sparseSoftmaxCrossEntropy,
  type BatchNormTrainingResult,
  type Conv2dBiasActOptions,
} from './ops';
export { describePlan, planFusedForward, runFusedForward, type FusedForwardPlan, type FusedLayerKind, type HeadOutput } from './forward';
export { nativeBackend, type NativeBackend } from './native';
export { createFusedAdam, type FusedUpdate } from './adam';
