/**
 * TensorFlow.js on a GPU through WebGPU, with no CUDA: Dawn's Node bindings (the npm package
 * `webgpu`, a prebuilt `dawn.node`) give Node a `navigator.gpu` over Vulkan, which NVIDIA, AMD and
 * Intel drivers provide; `@tensorflow/tfjs-backend-webgpu` then runs every kernel a CNN or CRNN
 * needs for training as WGSL compute shaders.
 *
 * Nothing here is loaded unless the webgpu backend is chosen: `webgpu` unpacks to ~130 MB
 * (binaries for every platform), so the default install leaves it out and
 * `bash scripts/setup.sh --webgpu` adds it. A software adapter (Mesa's llvmpipe, SwiftShader) is
 * refused unless asked for (`allowSoftware` / CAPTCHA_LAB_WEBGPU_SOFTWARE=1): it runs the real
 * WGSL kernels on the CPU, which is what the tests want, but ~100x slower than tfjs-node.
 *
 * In Node only asynchronous reads work on this backend (`await t.data()`): `dataSync` needs an
 * OffscreenCanvas for GPU-resident tensors.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { enableWebGpuFastKernels, WEBGPU_FAST_KERNEL_NAMES, type WebGpuFastKernelName } from './webgpu-kernels';

/** Name under which `@tensorflow/tfjs-backend-webgpu` registers its backend. */
export const WEBGPU_BACKEND_NAME = 'webgpu';
/** Set to 1 to accept a software WebGPU adapter (llvmpipe, SwiftShader): for tests. */
export const WEBGPU_SOFTWARE_ENV_VAR = 'CAPTCHA_LAB_WEBGPU_SOFTWARE';
/** Path of a `dawn.node` to load instead of the installed `webgpu` package's (e.g. a carried copy). */
export const DAWN_NODE_ENV_VAR = 'CAPTCHA_LAB_DAWN_NODE';
/** The version of the npm package `webgpu` that setup installs and that was measured. */
export const WEBGPU_PACKAGE = 'webgpu@0.6.2';

const INSTALL_HINT = `install it with \`bash scripts/setup.sh --webgpu\` (or \`npm install --no-save ${WEBGPU_PACKAGE}\`)`;

/** What the WebGPU adapter says about itself. */
export interface WebGpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (llvmpipe, SwiftShader, a fallback adapter), not a GPU. */
  software: boolean;
}

export interface WebGpuBackendOptions {
  /**
   * Accept a software adapter. @default process.env.CAPTCHA_LAB_WEBGPU_SOFTWARE === '1'
   */
  allowSoftware?: boolean;
  /**
   * Which of our fast training kernels to register (see ./webgpu-kernels). @default all of them
   */
  fastKernels?: readonly WebGpuFastKernelName[];
}

/** Where the `dawn.node` binary for this platform is, or an error that says how to get it. */
export function dawnNodePath(): string {
  const override = process.env[DAWN_NODE_ENV_VAR];
  if (override) {
    if (!fs.existsSync(override)) throw new Error(`${DAWN_NODE_ENV_VAR}=${override}: no such file; point it at a dawn.node or unset it`);
    return override;
  }
  let root: string;
  try {
    root = path.dirname(require.resolve('webgpu/package.json'));
  } catch {
    throw new Error(`the webgpu backend needs the npm package 'webgpu' (Dawn's Node bindings), which is not installed: ${INSTALL_HINT}`);
  }
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  const file = path.join(root, 'dist', `${process.platform}-${arch}`, 'dawn.node');
  if (!fs.existsSync(file)) throw new Error(`the 'webgpu' package has no binary for ${process.platform}-${arch} (${file})`);
  return file;
}

/** True when `dawnNodePath()` would find a binary; loads nothing. */
export function webGpuInstalled(): boolean {
  try {
    dawnNodePath();
    return true;
  } catch {
    return false;
  }
}

interface Dawn {
  create(flags: string[]): unknown;
  globals: Record<string, unknown>;
}

let installedGpu: { requestAdapter(options?: object): Promise<RawAdapter | null> } | undefined;

interface RawAdapter {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

/**
 * Gives this process a `navigator.gpu` from Dawn. It must exist before
 * `@tensorflow/tfjs-backend-webgpu` is loaded, which registers the backend only if it sees one.
 */
function installNavigatorGpu(): NonNullable<typeof installedGpu> {
  if (installedGpu) return installedGpu;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dawn = require(dawnNodePath()) as Dawn;
  const g = globalThis as unknown as Record<string, unknown> & { navigator?: Record<string, unknown> };
  for (const [name, value] of Object.entries(dawn.globals)) if (!(name in g)) g[name] = value;
  const gpu = dawn.create(['backend=vulkan']) as NonNullable<typeof installedGpu>;
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else g.navigator = { gpu };
  installedGpu = gpu;
  return gpu;
}

/** Describes a raw adapter; `software` for Mesa's llvmpipe/lavapipe, SwiftShader, or a fallback adapter. */
export function describeAdapter(raw: RawAdapter): WebGpuAdapter {
  const info = raw.info ?? {};
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const software =
    raw.isFallbackAdapter === true ||
    info.isFallbackAdapter === true ||
    architecture === 'software' ||
    /llvmpipe|lavapipe|swiftshader/i.test(`${device} ${description}`);
  return { vendor, architecture, device, description, software };
}

/** A one-line name for logs: `nvidia nvidia-h200 (GPU)`, `mesa llvmpipe-... (software)`. */
export function formatAdapter(a: WebGpuAdapter): string {
  return `${a.vendor || 'unknown vendor'} ${a.device || a.description || 'unknown device'} (${a.software ? 'software' : 'GPU'})`;
}

const VULKAN_LOADER_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu'];

function vulkanLoaderPresent(): boolean {
  if (process.platform !== 'linux') return true;
  return VULKAN_LOADER_DIRS.some((d) => fs.existsSync(path.join(d, 'libvulkan.so.1')));
}

/**
 * Asks Dawn for the high-performance adapter, without starting TensorFlow.js. Throws with the fix
 * when there is none (no Vulkan loader, no driver).
 */
export async function probeWebGpuAdapter(): Promise<WebGpuAdapter> {
  const gpu = installNavigatorGpu();
  const raw = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (raw == null) {
    if (!vulkanLoaderPresent()) {
      throw new Error(
        'WebGPU found no adapter: the Vulkan loader (libvulkan.so.1) is missing; install it (Debian/Ubuntu: `apt-get install libvulkan1`) and the GPU driver',
      );
    }
    throw new Error(
      'WebGPU found no adapter: no Vulkan driver answered; check the GPU driver (`nvidia-smi`, `vulkaninfo --summary`) or point VK_DRIVER_FILES at its ICD json',
    );
  }
  return describeAdapter(raw);
}

let started: WebGpuAdapter | undefined;

/**
 * Starts TensorFlow.js' webgpu backend on the machine's GPU, registers our fast training kernels,
 * and makes it the active backend. Returns the adapter. Safe to call again (switches back).
 *
 * @throws when `webgpu` is not installed, no adapter is found, or only a software adapter is and
 *   `allowSoftware` is not set; each message says what to do.
 */
export async function initWebGpuBackend(options: WebGpuBackendOptions = {}): Promise<WebGpuAdapter> {
  const allowSoftware = options.allowSoftware ?? process.env[WEBGPU_SOFTWARE_ENV_VAR] === '1';
  const fastKernels = options.fastKernels ?? WEBGPU_FAST_KERNEL_NAMES;
  const adapter = started ?? (await probeWebGpuAdapter());
  if (adapter.software && !allowSoftware) {
    throw new Error(
      `WebGPU found only a software adapter (${formatAdapter(adapter)}), which runs ~100x slower than the native CPU backend; ` +
        `use --backend native, or set ${WEBGPU_SOFTWARE_ENV_VAR}=1 to use it anyway (tests do)`,
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-backend-webgpu');
  if (tf.findBackendFactory(WEBGPU_BACKEND_NAME) == null) {
    throw new Error('@tensorflow/tfjs-backend-webgpu did not register (it was loaded before navigator.gpu existed); select the webgpu backend before anything else loads that package');
  }
  enableWebGpuFastKernels(fastKernels);
  const ok = await tf.setBackend(WEBGPU_BACKEND_NAME);
  if (!ok) throw new Error(`tf.setBackend('webgpu') failed on ${formatAdapter(adapter)}; see the warnings above`);
  started = adapter;
  return adapter;
}
