/**
 * Fused kernels and native gradients for the tfjs-node backend.
 *
 * Two kinds:
 * - gradient overrides of tfjs kernels (`Relu`, `MaxPool`): installed in tfjs's gradient registry,
 *   they run TensorFlow's own backward op when switched on and the backend is native, and call
 *   tfjs's original gradient otherwise, so installing them never changes results elsewhere;
 * - new kernels (`CaptchaLab*`) for what tfjs computes as many small ops: convolution with bias
 *   and ReLU, batch normalisation in training, softmax cross-entropy from logits. The training
 *   step calls them through `ops.ts` only when they are switched on.
 *
 * Why: in a tfjs-node training step most time went to element-wise gradient ops (ReLU's gradient
 * alone is six ops), to batch-norm arithmetic done op by op, and to Eigen's MaxPoolGrad, which is
 * about ten times slower than oneDNN's; Keras runs fused kernels for all of these.
 */
import * as tf from '@tensorflow/tfjs';
import {
  attrs as attrBuilder,
  NATIVE_BACKEND_NAME,
  nativeBackend,
  ONEDNN_KERNEL_LABEL,
  requireNativeBackend,
  type NativeAttr,
  type NativeBackend,
} from './native';

/** The replacements that can be switched on and off one by one. */
export type FusedKernelName =
  | 'reluGrad'
  | 'maxPoolGrad'
  | 'convBiasRelu'
  | 'batchNorm'
  | 'softmaxCrossEntropy'
  | 'adam';

/** Every replacement, in the order the notes describe them. */
export const FUSED_KERNEL_NAMES: readonly FusedKernelName[] = [
  'reluGrad',
  'maxPoolGrad',
  'convBiasRelu',
  'batchNorm',
  'softmaxCrossEntropy',
  'adam',
];

/** What each replacement does, for logs and docs. */
export const FUSED_KERNEL_DESCRIPTIONS: Record<FusedKernelName, string> = {
  reluGrad: "ReLU's gradient as the native ReluGrad op (tfjs: Step as six ops, then Multiply)",
  maxPoolGrad: "max-pool gradient with oneDNN's kernel (tfjs: Eigen's MaxPoolGrad, ~10x slower)",
  convBiasRelu: 'conv + bias + ReLU as one kernel; gradient ReluGrad, BiasAddGrad, Conv2DBackprop*',
  batchNorm: 'batch normalisation in training as FusedBatchNormV3 / FusedBatchNormGradV3',
  softmaxCrossEntropy: 'loss from the heads\' logits with SparseSoftmaxCrossEntropyWithLogits',
  adam: 'the Adam update as one native ResourceApplyAdam per variable',
};

// ---------------------------------------------------------------------------------------------
// Which replacements are on. The gradient overrides read this at backward time, so a plain and
// a fast training step can live in one process: each runs inside `withFusedKernels`.
// ---------------------------------------------------------------------------------------------

let active = new Set<FusedKernelName>();

/** Refuses names that are not fused kernels; `where` says where they came from, for the message. */
export function checkFusedKernelNames(kernels: Iterable<string>, where = ''): void {
  for (const k of kernels) {
    if (!FUSED_KERNEL_NAMES.includes(k as FusedKernelName)) {
      throw new Error(`unknown fused kernel '${String(k)}'${where}; known: ${FUSED_KERNEL_NAMES.join(', ')}`);
    }
  }
}

/** True when `name` is switched on and the native backend is active. */
export function fusedKernelActive(name: FusedKernelName): boolean {
  return active.has(name) && nativeBackend() !== undefined;
}

/** Runs `f` with exactly `kernels` switched on, then restores the previous set. */
export function withFusedKernels<T>(kernels: Iterable<FusedKernelName>, f: () => T): T {
  const previous = active;
  active = new Set(kernels);
  try {
    return f();
  } finally {
    active = previous;
  }
}

/** Replaces the globally active set (used by `enableFusedKernels` / `disableFusedKernels`). */
export function setActiveFusedKernels(kernels: Iterable<FusedKernelName>): void {
  active = new Set(kernels);
}

// ---------------------------------------------------------------------------------------------
// Availability.
// ---------------------------------------------------------------------------------------------

/** oneDNN ops we use when the native library has them, each probed once with a tiny input. */
type OneDnnOp = '_MklNativeMaxPool' | '_MklNativeConv2DWithBias';
const oneDnnProbes = new Map<OneDnnOp, boolean>();

function probeOneDnn(b: NativeBackend, op: OneDnnOp): boolean {
  return tf.tidy(() => {
    try {
      if (op === '_MklNativeMaxPool') {
        return b.executeMultipleOutputs(op, poolAttrs(b, [2, 2], [2, 2], 'VALID'), [tf.zeros([1, 2, 2, 1])], 2).length === 2;
      }
      const a = attrBuilder(b.binding);
      const y = b.executeSingleOutput(op, [...convAttrs(b, [1, 1], 'VALID'), a.string('_kernel', ONEDNN_KERNEL_LABEL)], [
        tf.ones([1, 2, 2, 1]),
        tf.ones([2, 2, 1, 1]),
        tf.ones([1]),
      ]);
      return y.dataSync()[0] === 5;
    } catch {
      return false;
    }
  });
}

/**
 * True when the native library runs the oneDNN kernel `op` on the CPU (x86 builds of
 * TensorFlow 2.9+; not macOS or ARM builds). A GPU build keeps its own (cuDNN) kernels.
 */
export function oneDnnAvailable(op: OneDnnOp): boolean {
  const b = nativeBackend();
  if (!b) return false;
  // asked on every conv forward and max-pool backward: the answer (device included) is cached
  let ok = oneDnnProbes.get(op);
  if (ok === undefined) {
    ok = !b.binding.isUsingGpuDevice() && probeOneDnn(b, op);
    oneDnnProbes.set(op, ok);
  }
  return ok;
}

/** True when oneDNN's max-pool kernels (forward with workspace, backward) can run. */
export function oneDnnPoolingAvailable(): boolean {
  return oneDnnAvailable('_MklNativeMaxPool');
}

/**
 * The replacements this process can run. `maxPoolGrad` needs oneDNN (x86 CPU builds). On a GPU
 * (tfjs-node-gpu) `batchNorm` is left out: cuDNN's reserve spaces hold the inverse variance and
 * a workspace, not what the CPU kernel keeps; the other replacements are plain TensorFlow ops
 * with GPU kernels but have not been verified on a GPU.
 */
export function availableFusedKernels(): FusedKernelName[] {
  const b = nativeBackend();
  if (!b) return [];
  const gpu = b.binding.isUsingGpuDevice();
  return FUSED_KERNEL_NAMES.filter((n) => {
    if (n === 'maxPoolGrad') return oneDnnPoolingAvailable();
    if (n === 'batchNorm') return !gpu;
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------------------

function floatAttrs(b: NativeBackend): NativeAttr[] {
  return [attrBuilder(b.binding).dtype('T', 'float32')];
}

function pair(v: number | number[]): [number, number] {
  return Array.isArray(v) ? [v[0], v.length > 1 ? v[1] : v[0]] : [v, v];
}

function poolAttrs(b: NativeBackend, size: [number, number], strides: [number, number], padding: 'SAME' | 'VALID'): NativeAttr[] {
  const a = attrBuilder(b.binding);
  return [
    a.dtype('T', 'float32'),
    a.ints('ksize', [1, size[0], size[1], 1]),
    a.ints('strides', [1, strides[0], strides[1], 1]),
    a.string('padding', padding),
    a.string('_kernel', ONEDNN_KERNEL_LABEL),
    a.bool('workspace_enabled', true),
  ];
}

function convAttrs(b: NativeBackend, strides: [number, number], padding: 'SAME' | 'VALID'): NativeAttr[] {
  const a = attrBuilder(b.binding);
  return [
    a.dtype('T', 'float32'),
    a.ints('strides', [1, strides[0], strides[1], 1]),
    a.string('padding', padding),
    a.string('data_format', 'NHWC'),
    a.ints('dilations', [1, 1, 1, 1]),
  ];
}

function asTensor(t: tf.TensorInfo | undefined, what: string): tf.Tensor {
  if (t == null) throw new Error(`fused kernel: missing input '${what}'`);
  return t as tf.Tensor;
}

// ---------------------------------------------------------------------------------------------
// Gradient overrides of tfjs kernels.
// ---------------------------------------------------------------------------------------------

interface GradientOverride {
  /** tfjs kernel whose gradient is replaced. */
  kernelName: string;
  make(original: tf.GradConfig): tf.GradConfig;
}

const reluGradOverride: GradientOverride = {
  kernelName: 'Relu',
  make: (original) => ({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const b = nativeBackend();
      if (!b || !active.has('reluGrad') || x.dtype !== 'float32' || Array.isArray(dy)) {
        return original.gradFunc(dy, saved, attrs);
      }
      // ReluGrad(dy, features) = dy where features > 0, else 0: one op instead of seven.
      return { x: () => b.executeSingleOutput('ReluGrad', floatAttrs(b), [dy, x]) };
    },
  }),
};

const maxPoolGradOverride: GradientOverride = {
  kernelName: 'MaxPool',
  make: (original) => ({
    ...original,
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved;
      const b = nativeBackend();
      const pad = attrs.pad;
      const usable =
        b !== undefined &&
        active.has('maxPoolGrad') &&
        !Array.isArray(dy) &&
        x.rank === 4 &&
        x.dtype === 'float32' &&
        (pad === 'valid' || pad === 'same') &&
        attrs.dimRoundingMode == null &&
        oneDnnPoolingAvailable();
      if (!usable) return original.gradFunc(dy, saved, attrs);
      const native = b as NativeBackend;
      const size = pair(attrs.filterSize as number | number[]);
      const strides = pair(attrs.strides as number | number[]);
      const pa = poolAttrs(native, size, strides, pad === 'same' ? 'SAME' : 'VALID');
      return {
        x: () => {
          // oneDNN's backward needs the forward's workspace (where each maximum was); pooling
          // again costs about as much as the forward pool, far less than Eigen's gradient.
          const [y2, workspace] = native.executeMultipleOutputs('_MklNativeMaxPool', pa, [x], 2);
          y2.dispose();
          const dx = native.executeSingleOutput('_MklNativeMaxPoolGrad', pa, [x, y, dy as tf.Tensor, workspace]);
          workspace.dispose();
          return dx;
        },
      };
    },
  }),
};

const GRADIENT_OVERRIDES: Partial<Record<FusedKernelName, GradientOverride>> = {
  reluGrad: reluGradOverride,
  maxPoolGrad: maxPoolGradOverride,
};

const originals = new Map<string, tf.GradConfig>();

/** Puts our gradient overrides into tfjs's registry (once); they delegate when switched off. */
export function installGradientOverrides(): void {
  for (const override of Object.values(GRADIENT_OVERRIDES)) {
    if (!override || originals.has(override.kernelName)) continue;
    const original = tf.getGradient(override.kernelName);
    if (!original) continue;
    originals.set(override.kernelName, original);
    tf.registerGradient(override.make(original));
  }
}

/** Restores tfjs's own gradients. */
export function uninstallGradientOverrides(): void {
  for (const original of originals.values()) tf.registerGradient(original);
  originals.clear();
}

// ---------------------------------------------------------------------------------------------
// New kernels.
// ---------------------------------------------------------------------------------------------

export const CONV_BIAS_ACT_KERNEL = 'CaptchaLabConv2DBiasAct';
export const BATCH_NORM_TRAINING_KERNEL = 'CaptchaLabBatchNormTraining';
export const SPARSE_SOFTMAX_XENT_KERNEL = 'CaptchaLabSparseSoftmaxCrossEntropy';

/** Attributes of the conv kernel. */
export interface ConvBiasActAttrs {
  strides: [number, number];
  padding: 'same' | 'valid';
  activation: 'relu' | 'linear';
}

const convBiasAct: tf.KernelConfig = {
  kernelName: CONV_BIAS_ACT_KERNEL,
  backendName: NATIVE_BACKEND_NAME,
  kernelFunc: ({ inputs, attrs }) => {
    const b = requireNativeBackend();
    const { strides, padding, activation } = attrs as unknown as ConvBiasActAttrs;
    const x = asTensor(inputs.x, 'x');
    const filter = asTensor(inputs.filter, 'filter');
    const bias = asTensor(inputs.bias, 'bias');
    const ca = convAttrs(b, strides, padding === 'same' ? 'SAME' : 'VALID');
    let biased: tf.Tensor;
    if (oneDnnAvailable('_MklNativeConv2DWithBias')) {
      // oneDNN adds the bias inside the convolution: one pass less over the output.
      biased = b.executeSingleOutput('_MklNativeConv2DWithBias', [...ca, attrBuilder(b.binding).string('_kernel', ONEDNN_KERNEL_LABEL)], [x, filter, bias]);
    } else {
      const conv = b.executeSingleOutput('Conv2D', ca, [x, filter]);
      biased = b.executeSingleOutput('BiasAdd', floatAttrs(b), [conv, bias]);
      conv.dispose();
    }
    if (activation === 'linear') return biased;
    const out = b.executeSingleOutput('Relu', floatAttrs(b), [biased]);
    biased.dispose();
    return out;
  },
};

const convBiasActGrad: tf.GradConfig = {
  kernelName: CONV_BIAS_ACT_KERNEL,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const b = requireNativeBackend();
    const [x, filter, y] = saved;
    const { strides, padding, activation } = attrs as unknown as ConvBiasActAttrs;
    const ca = convAttrs(b, strides, padding === 'same' ? 'SAME' : 'VALID');
    // The pre-activation gradient feeds all three input gradients: computed once here (in the
    // backward pass's scope) and released by the bias gradient, which the tape runs last.
    const dz = activation === 'relu' ? b.executeSingleOutput('ReluGrad', floatAttrs(b), [dy as tf.Tensor, y]) : (dy as tf.Tensor);
    return {
      x: () => b.executeSingleOutput('Conv2DBackpropInput', ca, [tf.tensor1d(x.shape, 'int32'), filter, dz]),
      filter: () => b.executeSingleOutput('Conv2DBackpropFilter', ca, [x, tf.tensor1d(filter.shape, 'int32'), dz]),
      bias: () => {
        const db = b.executeSingleOutput('BiasAddGrad', floatAttrs(b), [dz]);
        if (dz !== dy) dz.dispose();
        return db;
      },
    };
  },
};

/** Attributes of the batch-norm kernel. */
export interface BatchNormTrainingAttrs {
  epsilon: number;
}

function batchNormAttrs(b: NativeBackend, epsilon: number): NativeAttr[] {
  const a = attrBuilder(b.binding);
  return [
    a.dtype('T', 'float32'),
    a.dtype('U', 'float32'),
    a.float('epsilon', epsilon),
    a.string('data_format', 'NHWC'),
    a.bool('is_training', true),
  ];
}

const batchNormTraining: tf.KernelConfig = {
  kernelName: BATCH_NORM_TRAINING_KERNEL,
  backendName: NATIVE_BACKEND_NAME,
  kernelFunc: ({ inputs, attrs }) => {
    const b = requireNativeBackend();
    const { epsilon } = attrs as unknown as BatchNormTrainingAttrs;
    const x = asTensor(inputs.x, 'x');
    const empty = tf.tensor1d([], 'float32');
    const outs = b.executeMultipleOutputs(
      'FusedBatchNormV3',
      batchNormAttrs(b, epsilon),
      [x, asTensor(inputs.scale, 'scale'), asTensor(inputs.offset, 'offset'), empty, empty],
      6,
    );
    empty.dispose();
    // Outputs 1-2 are the batch mean and the Bessel-corrected variance (for moving averages);
    // reserve spaces 1-2 hold the mean and the biased variance that normalised the batch, which
    // is what tfjs's BatchNormalization layer also feeds its moving variance. Space 3 is empty.
    const [y, , besselVariance, mean, variance, reserve3] = outs;
    besselVariance.dispose();
    reserve3.dispose();
    return [y, mean, variance];
  },
};

const batchNormTrainingGrad: tf.GradConfig = {
  kernelName: BATCH_NORM_TRAINING_KERNEL,
  inputsToSave: ['x', 'scale'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const b = requireNativeBackend();
    const [x, scale, mean, variance] = saved;
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    const { epsilon } = attrs as unknown as BatchNormTrainingAttrs;
    const empty = tf.tensor1d([], 'float32');
    // One op yields all three gradients; the tape asks for them one at a time.
    const [dx, dScale, dOffset, r4, r5] = b.executeMultipleOutputs(
      'FusedBatchNormGradV3',
      batchNormAttrs(b, epsilon),
      [dy, x, scale, mean, variance, empty],
      5,
    );
    tf.dispose([empty, r4, r5]);
    return { x: () => dx, scale: () => dScale, offset: () => dOffset };
  },
};

const sparseSoftmaxXent: tf.KernelConfig = {
  kernelName: SPARSE_SOFTMAX_XENT_KERNEL,
  backendName: NATIVE_BACKEND_NAME,
  kernelFunc: ({ inputs }) => {
    const b = requireNativeBackend();
    const a = attrBuilder(b.binding);
    // Outputs: per-example loss [B] and its gradient w.r.t. the logits, softmax - onehot [B, C].
    return b.executeMultipleOutputs(
      'SparseSoftmaxCrossEntropyWithLogits',
      [a.dtype('T', 'float32'), a.dtype('Tlabels', 'int32')],
      [asTensor(inputs.logits, 'logits'), asTensor(inputs.labels, 'labels')],
      2,
    );
  },
};

const sparseSoftmaxXentGrad: tf.GradConfig = {
  kernelName: SPARSE_SOFTMAX_XENT_KERNEL,
  inputsToSave: ['labels'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved) => {
    const [labels, backprop] = saved;
    const dLoss = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
    return {
      logits: () => tf.mul(backprop, tf.expandDims(dLoss, 1)),
      // Labels are integers and never on a path to a variable; the tape still wants a function.
      labels: () => tf.zeros(labels.shape),
    };
  },
};

const NEW_KERNELS: Array<[tf.KernelConfig, tf.GradConfig]> = [
  [convBiasAct, convBiasActGrad],
  [batchNormTraining, batchNormTrainingGrad],
  [sparseSoftmaxXent, sparseSoftmaxXentGrad],
];

/** Whether `registerFusedKernels` has run since the last `unregisterFusedKernels`. */
let registered = false;

/** Registers the `CaptchaLab*` kernels and their gradients (once; harmless when unused). */
export function registerFusedKernels(): void {
  // called by every fused op of the training step: after the first time, one flag check
  if (registered) return;
  registered = true;
  for (const [kernel, grad] of NEW_KERNELS) {
    if (!tf.getKernel(kernel.kernelName, kernel.backendName)) tf.registerKernel(kernel);
    if (!tf.getGradient(grad.kernelName)) tf.registerGradient(grad);
  }
}

/** Removes the `CaptchaLab*` kernels and gradients. */
export function unregisterFusedKernels(): void {
  registered = false;
  for (const [kernel, grad] of NEW_KERNELS) {
    if (tf.getKernel(kernel.kernelName, kernel.backendName)) tf.unregisterKernel(kernel.kernelName, kernel.backendName);
    if (tf.getGradient(grad.kernelName)) tf.unregisterGradient(grad.kernelName);
  }
}
