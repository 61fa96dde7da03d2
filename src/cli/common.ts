/** Pieces every command shares: backend flags, number parsing, stage logging. */
import * as fs from 'fs';
import * as path from 'path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CAPTCHA_SIDE, CAPTCHA_VERSIONS, isCaptchaSide, type CaptchaVersion } from '../captcha';
import { listLabeledFiles, type LabeledFile } from '../data/labeled-files';
import { datasetImageLayout } from '../data/labels';
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

/** `0.7.0,0.2.2` -> lepture versions, each checked; the error names the list, the bad one and the choices. */
export function parseVersionListArg(name: string) {
  return (value: string): CaptchaVersion[] => {
    const versions = value.split(',').map((v) => v.trim()).filter(Boolean);
    const bad = versions.find((v) => !(CAPTCHA_VERSIONS as readonly string[]).includes(v));
    if (versions.length === 0 || bad !== undefined) {
      const which = bad === undefined ? '' : ` (version '${bad}' is not one of ${CAPTCHA_VERSIONS.join(', ')})`;
      throw new InvalidArgumentError(`${name} must be a comma-separated list of ${CAPTCHA_VERSIONS.join(', ')}, got '${value}'${which}`);
    }
    return versions as CaptchaVersion[];
  };
}

/** `140-170` (or one number, `160`) -> `[140, 170]` whole pixels, min <= max. */
export function parseRangeArg(name: string) {
  return (value: string): [number, number] => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(value);
    const range: [number, number] | null = m ? [Number(m[1]), Number(m[2] ?? m[1])] : null;
    if (!range || !isCaptchaSide(range[0]) || !isCaptchaSide(range[1]) || range[0] > range[1]) {
      throw new InvalidArgumentError(
        `${name} must be MIN-MAX in whole pixels, ${CAPTCHA_SIDE.min} <= MIN <= MAX <= ${CAPTCHA_SIDE.max} (e.g. 140-170), or one number, got '${value}'`,
      );
    }
    return range;
  };
}

/** An image side in whole pixels, within CAPTCHA_SIDE (8 to 4096). */
export function parseSideArg(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !isCaptchaSide(n)) {
      throw new InvalidArgumentError(`${name} must be whole pixels from ${CAPTCHA_SIDE.min} to ${CAPTCHA_SIDE.max}, got '${value}'`);
    }
    return n;
  };
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
      // beyond 2^53 a number is rounded: --seed 99999999999999999999 would silently be another seed
      if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}, got '${value}'`);
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

/**
 * Throws, naming the flag and the fix, unless `dir` is a folder of labelled images: a dataset
 * (labels.txt, from `generate`) or images with a labels.csv. Checked before a model is loaded.
 */
export function checkLabeledFolder(dir: string, flag = '--data-dir'): void {
  const kinds = 'a dataset folder (labels.txt, made by `captcha-lab generate`) or an image folder with labels.csv';
  if (!fs.existsSync(dir)) throw new Error(`${flag} '${dir}' does not exist; pass ${kinds}`);
  if (!fs.statSync(dir).isDirectory()) throw new Error(`${flag} '${dir}' is a file, not a folder; pass ${kinds}`);
  if (!fs.existsSync(path.join(dir, 'labels.txt')) && !fs.existsSync(path.join(dir, 'labels.csv'))) {
    const isModel = fs.existsSync(path.join(dir, 'model.json'));
    throw new Error(
      `${flag} '${dir}' has no labels.txt or labels.csv${isModel ? ' (it is a model folder: give it as --model-dir)' : ''}; pass ${kinds}` +
        (isModel ? '' : '; to read unlabelled images use `captcha-lab predict <folder>`'),
    );
  }
  if (!fs.existsSync(path.join(dir, 'labels.csv')) && !datasetImageLayout(dir)) {
    throw new Error(`${flag} '${dir}' has labels.txt but no images 0.png, 1.png, ... (or .jpg): the dataset is incomplete; make it again with \`captcha-lab generate --out ${dir}\``);
  }
}

/** The labelled images of a folder checked by `checkLabeledFolder`; none is an error, with the fix. */
export function listLabeledImages(dir: string, alphabet: string, flag = '--data-dir'): LabeledFile[] {
  const files = listLabeledFiles(dir, alphabet);
  if (files.length === 0) throw new Error(`${flag} '${dir}' lists no images in its labels file; add labelled images or pass another ${flag}`);
  return files;
}

/** `[stage] message (12.3 s)` lines, timed from the command's start. */
export function stageLogger(): (message: string) => void {
  const start = performance.now();
  return (message) => console.log(`[${((performance.now() - start) / 1000).toFixed(1).padStart(6)} s] ${message}`);
}

export { pct } from '../eval/metrics';
