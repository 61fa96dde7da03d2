/**
 * Faster training kernels for `@tensorflow/tfjs-backend-webgpu` 4.22, switchable one by one like
 * the fused native kernels of ./fused.
 *
 * - `conv2dBackpropFilter`: the backend's own weight gradient runs one GPU thread per filter
 *   weight, each looping over the whole batch and image (347 ms for the seed network's first conv
 *   at batch 64 on an H200). The same sum is a *forward* convolution of transposed tensors (x as
 *   [C_in, H, W, B] convolved with dy as an [h, w, B, C_out] filter, see ./composite-kernels),
 *   which the backend runs as a tiled matrix product (`forward-conv`). For the first layers that
 *   product has few outputs and a huge inner dimension, so few GPU threads share it; `per-image`
 *   computes it as one matrix product per image, summed (N times more independent work).
 *   `by-size`, the default, takes per-image for the large first layers and forward-conv for the
 *   rest: on an H200 the seed network trains at 944 images/s at batch 64 with it, against 877
 *   (per-image) and 354 (forward-conv) in the same run (docs/backends.md).
 *
 * Registering replaces the backend's kernel for the whole process; `disableWebGpuFastKernels`
 * restores it. Registration does not load the webgpu backend itself.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilter, conv2DBackpropFilterPerImage, type Info, type KernelArgs } from './composite-kernels';

const BACKEND = 'webgpu';

export const WEBGPU_FAST_KERNEL_NAMES = ['conv2dBackpropFilter'] as const;
export type WebGpuFastKernelName = (typeof WEBGPU_FAST_KERNEL_NAMES)[number];

interface FastKernel {
  kernelName: string;
  kernelFunc: (args: KernelArgs) => Info;
}

/**
 * How the fast `conv2dBackpropFilter` computes the weight gradient: `by-size` takes `per-image` for
 * layers whose gradient image (dy) has at least PER_IMAGE_MIN_PIXELS pixels (the first layers, whose
 * forward-conv product has a huge inner dimension) and `forward-conv` for the rest.
 */
export const WEBGPU_FILTER_GRADIENTS = ['forward-conv', 'per-image', 'by-size'] as const;
export type WebGpuFilterGradient = (typeof WEBGPU_FILTER_GRADIENTS)[number];

/** `CAPTCHA_LAB_WEBGPU_FILTER_GRAD`, read at each call so that a benchmark can switch it; unset: by-size (the fastest measured). */
export function webGpuFilterGradient(): WebGpuFilterGradient {
  const value = process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD || 'by-size';
  if (!(WEBGPU_FILTER_GRADIENTS as readonly string[]).includes(value)) {
    throw new Error(`CAPTCHA_LAB_WEBGPU_FILTER_GRAD='${value}' is not one of ${WEBGPU_FILTER_GRADIENTS.join(', ')}; unset it for by-size`);
  }
  return value as WebGpuFilterGradient;
}

/** `by-size`'s threshold: dy's H' x W' from which a layer's gradient is computed per image (the seed network's first four layers at 160x60). */
export const PER_IMAGE_MIN_PIXELS = 2048;

/** Which strategy computes this call's gradient (by-size resolved from dy's shape). */
export function filterGradientStrategy(strategy: WebGpuFilterGradient, dyShape: readonly number[], channelsLast = true): 'forward-conv' | 'per-image' {
  if (strategy !== 'by-size') return strategy;
  const [outH, outW] = channelsLast ? dyShape.slice(1, 3) : dyShape.slice(2, 4);
  return outH * outW >= PER_IMAGE_MIN_PIXELS ? 'per-image' : 'forward-conv';
}

/**
 * The per-image patches' cap: half the device's largest storage binding (2 GiB on an H200), so
 * that no buffer of the kernel reaches it (a binding over it fails validation, and tfjs-webgpu
 * goes on with the step's results wrong: seen at batch 256).
 */
function maxPatchBytes(backend: unknown): number {
  const limit = (backend as { device?: { limits?: { maxStorageBufferBindingSize?: number } } }).device?.limits?.maxStorageBufferBindingSize;
  return limit ? limit / 2 : 1 << 30;
}

const FAST_KERNELS: Record<WebGpuFastKernelName, FastKernel> = {
  conv2dBackpropFilter: {
    kernelName: tf.Conv2DBackpropFilter,
    kernelFunc: (args) => {
      const channelsLast = (args.attrs as { dataFormat?: string } | undefined)?.dataFormat !== 'NCHW';
      const strategy = filterGradientStrategy(webGpuFilterGradient(), (args.inputs.dy as tf.TensorInfo).shape, channelsLast);
      return strategy === 'per-image' ? conv2DBackpropFilterPerImage(args, BACKEND, maxPatchBytes(args.backend)) : conv2DBackpropFilter(args, BACKEND);
    },
  },
};

/** The backend's own kernels that ours replaced, to put back on disable. */
const originals = new Map<WebGpuFastKernelName, tf.KernelConfig>();

export function checkWebGpuKernelNames(names: readonly string[]): asserts names is readonly WebGpuFastKernelName[] {
  for (const name of names) {
    if (!(WEBGPU_FAST_KERNEL_NAMES as readonly string[]).includes(name)) {
      throw new Error(`'${name}' is not a webgpu fast kernel; known: ${WEBGPU_FAST_KERNEL_NAMES.join(', ')}`);
    }
  }
}

/** Which of our kernels are registered for webgpu now. */
export function activeWebGpuFastKernels(): WebGpuFastKernelName[] {
  return WEBGPU_FAST_KERNEL_NAMES.filter((name) => {
    const k = FAST_KERNELS[name];
    return tf.getKernel(k.kernelName, BACKEND)?.kernelFunc === (k.kernelFunc as tf.KernelFunc);
  });
}

/**
 * Registers exactly `names` (default: all) for webgpu and restores the backend's own kernel for the
 * others. Returns the names now active. Idempotent.
 */
export function enableWebGpuFastKernels(names: readonly string[] = WEBGPU_FAST_KERNEL_NAMES): WebGpuFastKernelName[] {
  checkWebGpuKernelNames(names);
  webGpuFilterGradient(); // a misspelt CAPTCHA_LAB_WEBGPU_FILTER_GRAD fails now, not at the first backward pass
  for (const name of WEBGPU_FAST_KERNEL_NAMES) {
    const { kernelName, kernelFunc } = FAST_KERNELS[name];
    const current = tf.getKernel(kernelName, BACKEND);
    const ours = current?.kernelFunc === (kernelFunc as tf.KernelFunc);
    if (names.includes(name) && !ours) {
      if (current) {
        originals.set(name, current);
        // Unregistering first avoids tfjs' "already registered" warning.
        tf.unregisterKernel(kernelName, BACKEND);
      }
      tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc: kernelFunc as tf.KernelFunc });
    } else if (!names.includes(name) && ours) {
      tf.unregisterKernel(kernelName, BACKEND);
      const original = originals.get(name);
      if (original) tf.registerKernel(original);
    }
  }
  return activeWebGpuFastKernels();
}

/** Puts the backend's own kernels back. */
export function disableWebGpuFastKernels(): void {
  enableWebGpuFastKernels([]);
}
