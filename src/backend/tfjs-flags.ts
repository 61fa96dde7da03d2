/**
 * `CAPTCHA_LAB_TFJS_FLAGS="NAME=value,NAME=value"`: TensorFlow.js environment flags for a run,
 * set once the backend is ready (a backend registers its own flags when it loads, e.g.
 * `WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE`). In a browser tfjs reads them from the URL; Node has no
 * such hook, and benchmarks on a GPU machine need to switch them without a rebuild. Flags that a
 * backend reads only while it loads (e.g. `WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD`) take no effect.
 */
import * as tf from '@tensorflow/tfjs';

export const TFJS_FLAGS_ENV_VAR = 'CAPTCHA_LAB_TFJS_FLAGS';

export type TfjsFlagValue = number | boolean | string;

/** "A=1,B=false,C=text" -> { A: 1, B: false, C: 'text' }; a malformed entry names itself and the form. */
export function parseTfjsFlags(spec: string): Record<string, TfjsFlagValue> {
  const flags: Record<string, TfjsFlagValue> = {};
  for (const entry of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(entry);
    if (!m || m[2] === '') {
      throw new Error(`${TFJS_FLAGS_ENV_VAR}: '${entry}' is not NAME=value (e.g. WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64,WEBGPU_CPU_FORWARD=false)`);
    }
    const raw = m[2];
    flags[m[1]] = raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return flags;
}

/**
 * Sets the flags of `spec` (default: the environment variable); returns what was set. All are
 * checked before any is set: an unknown flag, or a value of another type than the flag's (a
 * number for a boolean flag, say), is refused with the known flags and the fix.
 */
export function applyTfjsFlags(spec = process.env[TFJS_FLAGS_ENV_VAR] ?? ''): Record<string, TfjsFlagValue> {
  const flags = parseTfjsFlags(spec);
  const known = Object.keys((tf.env() as unknown as { flagRegistry: Record<string, unknown> }).flagRegistry);
  for (const [name, value] of Object.entries(flags)) {
    if (!known.includes(name)) {
      throw new Error(
        `${TFJS_FLAGS_ENV_VAR}: '${name}' is not a flag of this TensorFlow.js and backend (WEBGPU_* flags need --backend webgpu); ` +
          `fix the name or unset ${TFJS_FLAGS_ENV_VAR}; known: ${known.sort().join(', ')}`,
      );
    }
    const current = tf.env().get(name);
    if (typeof current !== typeof value) {
      throw new Error(`${TFJS_FLAGS_ENV_VAR}: ${name} takes a ${typeof current} (now ${String(current)}), not '${String(value)}'`);
    }
  }
  for (const [name, value] of Object.entries(flags)) tf.env().set(name, value);
  return flags;
}
