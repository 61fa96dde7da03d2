/**
 * Training kernels that `@tensorflow/tfjs-backend-wasm` 4.22.0 lacks, built from the wasm
 * backend's own kernels, and a helper that starts the wasm backend in Node.
 *
 * Without them, `model.fit` of a CNN on wasm stops at the first backward pass with
 * "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'" (and likewise
 * `DepthwiseConv2dNativeBackpropInput`/`Filter` for depthwise layers, `UnsortedSegmentSum`
 * for the gradient of `tf.gather`, e.g. embeddings). The wasm backend's own
 * `Conv2DBackpropInput` works but is a plain loop; it is replaced too (optional), which makes
 * a training step of the `seed` network about 3x faster on wasm (docs/notes/wasm.md).
 *
 * The kernels themselves live in ./composite-kernels (shared with the webgpu backend); this
 * module registers them for wasm.
 *
 * This module never imports `@tensorflow/tfjs-node`, so it works where the native binding
 * cannot load (which is when the wasm backend is needed).
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  conv2DBackpropFilter,
  conv2DBackpropInput,
  depthwiseConv2dNativeBackpropFilter,
  depthwiseConv2dNativeBackpropInput,
  unsortedSegmentSum,
  type Info,
  type KernelArgs,
} from './composite-kernels';

/** Name under which `@tensorflow/tfjs-backend-wasm` registers its backend. */
export const WASM_BACKEND_NAME = 'wasm';

interface TrainingKernel {
  name: string;
  kernelFunc: (args: KernelArgs) => Info;
  /** Replaces a kernel that the wasm backend has but runs slowly (see `replaceSlowKernels`). */
  replacesSlow: boolean;
}

/** Binds a composite kernel to wasm (made once, so re-registering can recognise it). */
const onWasm =
  (kernel: (args: KernelArgs, backendName: string) => Info) =>
  (args: KernelArgs): Info =>
    kernel(args, WASM_BACKEND_NAME);

const TRAINING_KERNELS: readonly TrainingKernel[] = [
  { name: tf.Conv2DBackpropFilter, kernelFunc: onWasm(conv2DBackpropFilter), replacesSlow: false },
  {
    name: tf.DepthwiseConv2dNativeBackpropFilter,
    kernelFunc: onWasm(depthwiseConv2dNativeBackpropFilter),
    replacesSlow: false,
  },
  {
    name: tf.DepthwiseConv2dNativeBackpropInput,
    kernelFunc: onWasm(depthwiseConv2dNativeBackpropInput),
    replacesSlow: false,
  },
  { name: tf.UnsortedSegmentSum, kernelFunc: onWasm(unsortedSegmentSum), replacesSlow: false },
  { name: tf.Conv2DBackpropInput, kernelFunc: onWasm(conv2DBackpropInput), replacesSlow: true },
];

/** Options of {@link registerWasmTrainingKernels}. */
export interface WasmTrainingKernelsOptions {
  /**
   * Also replace the wasm backend's own `Conv2DBackpropInput` (correct, but a plain loop
   * several times slower than the forward convolution) with one built on its XNNPACK Conv2D.
   * Once replaced, it stays replaced for the process: `false` on a later call undoes nothing.
   * @default true
   */
  replaceSlowKernels?: boolean;
}

export const DEFAULT_WASM_TRAINING_KERNELS_OPTIONS: Readonly<Required<WasmTrainingKernelsOptions>> = {
  replaceSlowKernels: true,
};

/**
 * Registers, for the `wasm` backend, the training kernels it lacks (`Conv2DBackpropFilter`,
 * `DepthwiseConv2dNativeBackpropFilter`, `DepthwiseConv2dNativeBackpropInput`,
 * `UnsortedSegmentSum`) and, unless `replaceSlowKernels` is false, a fast
 * `Conv2DBackpropInput`. A missing kernel that a later wasm version provides is left alone.
 * Idempotent: calling it again registers nothing new.
 *
 * @returns the names of the kernels that now run this module's implementation on wasm (the
 *   same list on every call with the same options).
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelsOptions = {}): string[] {
  const { replaceSlowKernels } = { ...DEFAULT_WASM_TRAINING_KERNELS_OPTIONS, ...options };
  const ours: string[] = [];
  for (const { name, kernelFunc, replacesSlow } of TRAINING_KERNELS) {
    const existing = tf.getKernel(name, WASM_BACKEND_NAME);
    if (existing != null && existing.kernelFunc === (kernelFunc as tf.KernelFunc)) {
      ours.push(name);
      continue;
    }
    if (existing != null) {
      if (!(replacesSlow && replaceSlowKernels)) continue;
      // Unregistering first avoids tfjs' "already registered" warning. The original's setupFunc
      // has nothing to do for ours, which only calls other kernels.
      tf.unregisterKernel(name, WASM_BACKEND_NAME);
    }
    tf.registerKernel({
      kernelName: name,
      backendName: WASM_BACKEND_NAME,
      kernelFunc: kernelFunc as tf.KernelFunc,
    });
    ours.push(name);
  }
  return ours;
}

/** Options of {@link initWasmBackend}. */
export interface WasmBackendOptions extends WasmTrainingKernelsOptions {
  /**
   * Folder (path or URL prefix, ending in '/') that holds `tfjs-backend-wasm.wasm`,
   * `tfjs-backend-wasm-simd.wasm` and `tfjs-backend-wasm-threaded-simd.wasm`.
   * In Node 20 a plain absolute path and a `file://` URL both work.
   * @default the installed `@tensorflow/tfjs-backend-wasm` package's `dist/` folder
   */
  wasmDir?: string;
}

/** The installed package's `dist/`, where its `.wasm` files live next to the Node bundle. */
function installedWasmDir(): string {
  // Node's fs accepts '/' on every platform, and the prefix is joined to file names with no
  // separator of its own.
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/';
}

/** Defaults of {@link initWasmBackend}; `wasmDir` is looked up when first read, not at import. */
export const DEFAULT_WASM_BACKEND_OPTIONS: Readonly<Required<WasmBackendOptions>> = {
  ...DEFAULT_WASM_TRAINING_KERNELS_OPTIONS,
  get wasmDir(): string {
    return installedWasmDir();
  },
};

/**
 * Starts TensorFlow.js' wasm backend (loading its `.wasm` binary from `wasmDir`), registers
 * the training kernels it lacks and a fast `Conv2DBackpropInput`
 * ({@link registerWasmTrainingKernels}) and makes it the active backend. Safe to call more than once: later calls only switch back to wasm.
 *
 * @throws if the `.wasm` files cannot be loaded (wrong `wasmDir`).
 */
export async function initWasmBackend(options: WasmBackendOptions = {}): Promise<void> {
  const replaceSlowKernels = options.replaceSlowKernels ?? DEFAULT_WASM_BACKEND_OPTIONS.replaceSlowKernels;
  const wasmDir = 'wasmDir' in options ? options.wasmDir : DEFAULT_WASM_BACKEND_OPTIONS.wasmDir;
  if (typeof wasmDir !== 'string' || !(wasmDir.endsWith('/') || wasmDir.endsWith('\\'))) {
    throw new Error(
      `initWasmBackend: wasmDir ${JSON.stringify(wasmDir)} must be a folder path or URL ending ` +
        `in '/' (it is used as a prefix of the .wasm file names); add the trailing slash.`,
    );
  }
  registerWasmTrainingKernels({ replaceSlowKernels });
  // The paths can only be set before the backend's first initialisation; after that the
  // binary is already loaded and setWasmPaths would throw.
  if (tf.engine().registry[WASM_BACKEND_NAME] == null) {
    try {
      setWasmPaths(wasmDir);
    } catch (err) {
      throw new Error(
        `initWasmBackend: an earlier attempt to start the wasm backend (tf.setBackend('wasm') or ` +
          `tf.ready() without the .wasm paths) failed, and the paths cannot be set afterwards; ` +
          `call initWasmBackend() before anything else starts the wasm backend ` +
          `(${(err as Error).message}).`,
      );
    }
  }
  const ok = await tf.setBackend(WASM_BACKEND_NAME);
  if (!ok) {
    throw new Error(
      `initWasmBackend: the wasm backend did not start with wasmDir '${wasmDir}'; that folder ` +
        `must contain tfjs-backend-wasm.wasm and tfjs-backend-wasm-simd.wasm ` +
        `(reinstall @tensorflow/tfjs-backend-wasm@4.22.0, or pass the right wasmDir).`,
    );
  }
}
