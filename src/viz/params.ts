/**
 * Notebook parameters that the environment can override, so the headless test (and anyone)
 * reruns a notebook with other settings without editing it:
 * `const EPOCHS = envNumber('CAPTCHA_LAB_EPOCHS', 2);`
 */

export interface EnvNumberOptions {
  /** Accept only whole numbers. @default false */
  integer?: boolean;
  /** Smallest allowed value. @default -Infinity */
  min?: number;
}

export const DEFAULT_ENV_NUMBER_OPTIONS: Required<EnvNumberOptions> = {
  integer: false,
  min: -Infinity,
};

/** The number in environment variable `name`, or `fallback` when it is unset or empty. */
export function envNumber(name: string, fallback: number, options: EnvNumberOptions = {}, env: NodeJS.ProcessEnv = process.env): number {
  const opts = { ...DEFAULT_ENV_NUMBER_OPTIONS, ...options };
  const raw = env[name];
  const value = raw === undefined || raw.trim() === '' ? fallback : Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name}='${raw}' is not a number; unset it or give a number such as ${fallback}`);
  if (opts.integer && !Number.isInteger(value)) throw new Error(`${name}=${value} must be a whole number`);
  if (value < opts.min) throw new Error(`${name}=${value} must be >= ${opts.min}`);
  return value;
}

/** A whole number >= 1 (counts, sizes, epochs) from the environment, or `fallback`. */
export function envCount(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  return envNumber(name, fallback, { integer: true, min: 1 }, env);
}

/** The string in environment variable `name`, or `fallback` when it is unset or empty. */
export function envString(name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? fallback : raw;
}
