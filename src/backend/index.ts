/**
 * Picks the fastest TensorFlow.js backend this machine can run, once, at the entry point
 * (CLI, notebook, benchmark). Library code imports plain `@tensorflow/tfjs` and runs on whatever
 * was chosen here.
 *
 * Automatic order: tfjs-node-gpu (when it loads and a GPU is visible; unverified) > tfjs-node
 * (native TensorFlow) > wasm (with the training kernels it lacks registered by us) > pure-JS cpu
 * (with a loud warning). webgpu (Dawn over Vulkan, see ./webgpu) runs only when asked for: on an
 * H200 it beats two CPU cores for every network here (seed 878 against 133 img/s, bench 697
 * against 317, crnn 358 against ~80), but probing for it would load the WebGPU path, and an
 * integrated GPU may lose, so it is not known to be faster in general.
 * `CAPTCHA_LAB_BACKEND=gpu|webgpu|native|wasm|cpu` (or `--backend`) forces one choice.
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { initWasmBackend } from './wasm-kernels';
import { registerBroadcastGradients } from './gradients';
import { applyTfjsFlags, parseTfjsFlags, TFJS_FLAGS_ENV_VAR } from './tfjs-flags';
import type { WebGpuAdapter } from './webgpu';

export type BackendKind = 'gpu' | 'webgpu' | 'native' | 'wasm' | 'cpu';

export const BACKEND_ENV_VAR = 'CAPTCHA_LAB_BACKEND';
export const BACKEND_ORDER: readonly BackendKind[] = ['gpu', 'webgpu', 'native', 'wasm', 'cpu'];
/** What the automatic choice tries, in order: every backend but webgpu (see the header). */
export const AUTOMATIC_ORDER: readonly BackendKind[] = BACKEND_ORDER.filter((k) => k !== 'webgpu');

export interface BackendInfo {
  /** Which of our choices is active. */
  kind: BackendKind;
  /** TensorFlow.js backend name as `tf.getBackend()` reports it (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** npm package that provides it. */
  package: string;
  /** Why the faster choices were skipped, one line each. */
  skipped: string[];
  /** Set when the backend is too slow for real training. */
  warning?: string;
  /** The WebGPU adapter, for the webgpu backend. */
  adapter?: WebGpuAdapter;
}

export interface SelectBackendOptions {
  /**
   * Force one backend instead of the first that works. Falls back to the environment variable.
   * @default process.env.CAPTCHA_LAB_BACKEND, else automatic
   */
  force?: BackendKind;
  /** Where to report the choice and warnings. @default console.error */
  log?: (line: string) => void;
}

/** Exported for the CLI's `--backend` flag: the same check as the environment variable. */
export function parseBackendKind(value: string | undefined): BackendKind | undefined {
  return parseForced(value);
}

let active: BackendInfo | undefined;

/** The backend chosen by `selectBackend`, if it has run in this process. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

function parseForced(value: string | undefined): BackendKind | undefined {
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if ((BACKEND_ORDER as readonly string[]).includes(value)) return value as BackendKind;
  throw new Error(
    `${BACKEND_ENV_VAR}='${value}' is not a backend; use one of ${BACKEND_ORDER.join(', ')} or auto`,
  );
}

/** True when an NVIDIA driver exposes at least one GPU (what tfjs-node-gpu would use). */
export function gpuVisible(): boolean {
  try {
    return fs.readdirSync('/proc/driver/nvidia/gpus').length > 0;
  } catch {
    return false;
  }
}

function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0];
}

async function tryBackend(kind: BackendKind): Promise<Omit<BackendInfo, 'skipped'>> {
  switch (kind) {
    case 'gpu': {
      if (!gpuVisible()) throw new Error('no NVIDIA GPU visible (/proc/driver/nvidia/gpus is empty)');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-node-gpu');
      await tf.setBackend('tensorflow');
      return { kind, tfBackend: 'tensorflow', package: '@tensorflow/tfjs-node-gpu' };
    }
    case 'webgpu': {
      // Loaded only when chosen: requiring ./webgpu pulls in nothing heavy, but Dawn and the
      // webgpu backend load only inside initWebGpuBackend.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const webgpu = require('./webgpu') as typeof import('./webgpu');
      const adapter = await webgpu.initWebGpuBackend();
      return {
        kind,
        tfBackend: 'webgpu',
        package: `@tensorflow/tfjs-backend-webgpu on ${webgpu.formatAdapter(adapter)}`,
        adapter,
        warning: adapter.software ? 'software WebGPU adapter: real WGSL kernels on the CPU, for tests only (~100x slower)' : undefined,
      };
    }
    case 'native': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('@tensorflow/tfjs-node');
      await tf.setBackend('tensorflow');
      return { kind, tfBackend: 'tensorflow', package: '@tensorflow/tfjs-node' };
    }
    case 'wasm': {
      await initWasmBackend();
      return {
        kind,
        tfBackend: 'wasm',
        package: '@tensorflow/tfjs-backend-wasm',
        warning: 'wasm backend: training runs about 20x slower than native TensorFlow; run `npm run setup`',
      };
    }
    case 'cpu': {
      await tf.setBackend('cpu');
      return {
        kind,
        tfBackend: 'cpu',
        package: '@tensorflow/tfjs',
        warning:
          'pure-JS cpu backend: training runs about 100x slower than native TensorFlow; run `npm run setup`',
      };
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown backend ${String(never)}`);
    }
  }
}

/**
 * Activates the best available backend (or the forced one) and returns what was chosen.
 * Calling it again returns the first choice: TensorFlow.js cannot unload a native backend.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendInfo> {
  const log = options.log ?? ((line: string) => console.error(line));
  if (active) return active;
  const forced = options.force ?? parseForced(process.env[BACKEND_ENV_VAR]);
  // A malformed CAPTCHA_LAB_TFJS_FLAGS fails now, before a backend takes time to load.
  const flagSpec = process.env[TFJS_FLAGS_ENV_VAR] ?? '';
  parseTfjsFlags(flagSpec);
  const candidates = forced ? [forced] : AUTOMATIC_ORDER;
  const skipped: string[] = [];
  let info: BackendInfo | undefined;
  for (const kind of candidates) {
    try {
      info = { ...(await tryBackend(kind)), skipped };
      await tf.ready();
      break;
    } catch (err) {
      info = undefined;
      skipped.push(`${kind}: ${describe(err)}`);
    }
  }
  if (!info) throw new Error(`no TensorFlow.js backend could be started:\n  ${skipped.join('\n  ')}`);
  registerBroadcastGradients();
  log(`[backend] ${info.tfBackend} (${info.package})`);
  if (info.warning) log(`[backend] WARNING: ${info.warning}`);
  // Outside the loop: a flag this backend does not know is the user's error, not a reason to try the next one.
  const flags = applyTfjsFlags(flagSpec);
  if (Object.keys(flags).length > 0) log(`[backend] tfjs flags ${Object.entries(flags).map(([k, v]) => `${k}=${v}`).join(',')}`);
  active = info;
  return info;
}

export { initWasmBackend, registerWasmTrainingKernels } from './wasm-kernels';
export { applyTfjsFlags, parseTfjsFlags, TFJS_FLAGS_ENV_VAR } from './tfjs-flags';
export { registerBroadcastGradients } from './gradients';
export {
  activeWebGpuFastKernels,
  disableWebGpuFastKernels,
  enableWebGpuFastKernels,
  WEBGPU_FAST_KERNEL_NAMES,
  type WebGpuFastKernelName,
} from './webgpu-kernels';
export type { WebGpuAdapter, WebGpuBackendOptions } from './webgpu';
