/** Pieces every command shares: backend flags, number parsing, stage logging. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { selectBackend, BACKEND_ORDER, type BackendInfo, type BackendKind } from '../backend';

/** Adds `--backend` and `--gpu` to a command. */
export function addBackendOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--backend <kind>', 'force a TensorFlow.js backend (default: best available)').choices([...BACKEND_ORDER]))
    .option('--gpu', 'use @tensorflow/tfjs-node-gpu (same as --backend gpu)');
}

export async function startBackend(opts: { backend?: BackendKind; gpu?: boolean }): Promise<BackendInfo> {
  return selectBackend({ force: opts.gpu ? 'gpu' : opts.backend });
}

/**
 * A commander parser for an integer flag. With `min` (0 or 1, for counts and sizes) only plain
 * digits are accepted, so `1e3` or `2.0` is refused rather than read as a number.
 */
export function parseIntArg(name: string, min?: 0 | 1) {
  return (value: string): number => {
    const n = Number(value);
    if (min === undefined) {
      if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number, got '${value}'`);
      return n;
    }
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be ${min === 1 ? 'a positive integer' : 'an integer >= 0'}, got '${value}'`);
    }
    return n;
  };
}

export function parseFloatArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got '${value}'`);
    return n;
  };
}

/** `[stage] message (12.3 s)` lines, timed from the command's start. */
export function stageLogger(): (message: string) => void {
  const start = performance.now();
  return (message) => console.log(`[${((performance.now() - start) / 1000).toFixed(1).padStart(6)} s] ${message}`);
}

export { pct } from '../eval/metrics';
