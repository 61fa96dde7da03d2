/**
 * Running TensorFlow ops by name on the tfjs-node backend, without importing tfjs-node.
 *
 * tfjs-node's backend object exposes `executeSingleOutput` / `executeMultipleOutputs`, which run
 * any op of the TensorFlow C library eagerly; op attributes are `{ name, type, value }` records
 * whose `type` numbers come from the native binding. Reaching them through `tf.backend()` keeps
 * library code free of a hard dependency on the native package (the backend may be wasm or cpu).
 */
import * as tf from '@tensorflow/tfjs';

/** The constants and calls of tfjs-node's native binding that we use. */
export interface NativeBinding {
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
  TF_ATTR_SHAPE: number;
  TF_FLOAT: number;
  TF_INT32: number;
  isUsingGpuDevice(): boolean;
}

/** One attribute of a native op, as tfjs-node's binding takes it. */
export interface NativeAttr {
  name: string;
  type: number;
  value: string | number | boolean | number[];
}

/** The part of tfjs-node's `NodeJSKernelBackend` that runs ops by name. */
export interface NativeBackend {
  binding: NativeBinding;
  executeSingleOutput(name: string, attrs: NativeAttr[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(name: string, attrs: NativeAttr[], inputs: tf.TensorInfo[], numOutputs: number): tf.Tensor[];
}

/** Name under which tfjs-node (and tfjs-node-gpu) registers its backend. */
export const NATIVE_BACKEND_NAME = 'tensorflow';

function isNativeBackend(b: unknown): b is NativeBackend {
  const candidate = b as Partial<NativeBackend> | undefined;
  return (
    candidate != null &&
    typeof candidate.executeSingleOutput === 'function' &&
    typeof candidate.executeMultipleOutputs === 'function' &&
    candidate.binding != null &&
    typeof candidate.binding.TF_ATTR_TYPE === 'number'
  );
}

/** The active backend when it is tfjs-node's native one, else undefined. */
export function nativeBackend(): NativeBackend | undefined {
  if (tf.getBackend() !== NATIVE_BACKEND_NAME) return undefined;
  const b: unknown = tf.backend();
  return isNativeBackend(b) ? b : undefined;
}

/** Like `nativeBackend`, for code that only runs on it (kernels registered for 'tensorflow'). */
export function requireNativeBackend(): NativeBackend {
  const b = nativeBackend();
  if (!b) {
    throw new Error(
      `fused kernels need the '${NATIVE_BACKEND_NAME}' backend (@tensorflow/tfjs-node), but the active backend is '${tf.getBackend()}'`,
    );
  }
  return b;
}

/** Attribute builders bound to one binding's type numbers. */
export interface AttrBuilder {
  dtype(name: string, dtype: 'float32' | 'int32'): NativeAttr;
  ints(name: string, value: number | number[]): NativeAttr;
  string(name: string, value: string): NativeAttr;
  float(name: string, value: number): NativeAttr;
  bool(name: string, value: boolean): NativeAttr;
  shape(name: string, dims: number[]): NativeAttr;
}

export function attrs(binding: NativeBinding): AttrBuilder {
  return {
    dtype: (name, dtype) => ({
      name,
      type: binding.TF_ATTR_TYPE,
      value: dtype === 'float32' ? binding.TF_FLOAT : binding.TF_INT32,
    }),
    ints: (name, value) => ({ name, type: binding.TF_ATTR_INT, value }),
    string: (name, value) => ({ name, type: binding.TF_ATTR_STRING, value }),
    float: (name, value) => ({ name, type: binding.TF_ATTR_FLOAT, value }),
    bool: (name, value) => ({ name, type: binding.TF_ATTR_BOOL, value }),
    shape: (name, dims) => ({ name, type: binding.TF_ATTR_SHAPE, value: dims }),
  };
}

/**
 * oneDNN kernels (`_MklNative*`) are only picked when the op carries this label; TensorFlow's own
 * eager rewrite sets the same one. Builds without oneDNN (macOS, ARM) reject the op.
 */
export const ONEDNN_KERNEL_LABEL = 'MklNameChangeOp';
