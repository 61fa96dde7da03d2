/** `captcha-lab evaluate`: accuracy, confusion pairs and matrix of a saved model, as JSON. */
import * as fs from 'fs';
import * as path from 'path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createFolder, writeFileAtomic } from '../files';
import { FolderDataset } from '../data/loader';
import { splitIndices } from '../data/split';
import { decodingRules, evaluateModel, formatReport, logitShiftOf, formatTextLength, freshTextLength, type TextBatch } from '../eval';
import { fileBatches } from '../eval/image-batches';
import { freshBatches, parseImageSize, type ImageSize } from '../eval/fresh';
import { COMMON_CAPTCHA_SIZES } from '../eval/matrix';
import { CAPTCHA_VERSIONS, type CaptchaVersion } from '../captcha';
import type { BackendKind } from '../backend';
import { getModelSpec, loadModel, loadZeroOReader, weightsDigest, type HeadKind, type LogitShift, type ModelMetadata, type TextRules } from '../models';
import { findRunRecord, type RunRecord } from '../train';
import { checkModelFolder } from '../models/io';
import { checkReportTarget, reportFileName, type EvaluatedImages } from '../eval/report-file';
import { addBackendOptions, checkLabeledFolder, listLabeledImages, parseIntArg, stageLogger, startBackend } from './common';

function parseSizeArg(value: string): ImageSize {
  try {
    return parseImageSize(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export const DEFAULT_MODEL_DIR = path.join('models', 'pretrained');

/** The model folder to use (`--model-dir`, else the shipped one); throws with the fix unless it holds a model. */
export function resolveModelDir(dir: string | undefined): string {
  if (dir === undefined && !fs.existsSync(DEFAULT_MODEL_DIR)) {
    throw new Error(`no model in '${DEFAULT_MODEL_DIR}' (the default, relative to the current folder ${process.cwd()}): run captcha-lab from the repository's folder, or pass --model-dir <folder>`);
  }
  const chosen = dir ?? DEFAULT_MODEL_DIR;
  checkModelFolder(chosen);
  return chosen;
}

/** What a reading command asked for: the model folder and how to decode its output. */
export interface ReaderRequest {
  modelDir?: string;
  /** CTC models: greedy decoding, any length and repeats (and no calibration). */
  greedy?: boolean;
  /** CTC models: ignore the model's 0/O calibration. */
  uncalibrated?: boolean;
  /** CTC models: false (`--no-second-look`) reads without the model's 0/O reader. */
  secondLook?: boolean;
  backend?: BackendKind;
  gpu?: boolean;
}

/**
 * A saved model's second look at 0/O, loaded, when it has a reader and is read by its training
 * texts' rules (a CTC model, not greedily): the reader, the model's input and the reader's weights
 * digest (for reports). Undefined otherwise.
 */
export async function secondLookOf(modelDir: string, metadata: ModelMetadata, head: HeadKind, textRules: TextRules | undefined) {
  if (metadata.zeroOReader === undefined || head !== 'ctc' || textRules === undefined) return undefined;
  const reader = (await loadZeroOReader(modelDir, metadata))!;
  return { reader, input: metadata.input, weights: weightsDigest(path.join(modelDir, metadata.zeroOReader)) };
}

/**
 * What every command that reads images starts with: the model folder (checked), the backend,
 * the model, and how its output is decoded (text rules, 0/O calibration, the second look).
 * `firstLookOnly`: the model has a reader that this (not greedy) reading leaves out, e.g. with `--no-second-look`.
 */
export async function openModelReader(request: ReaderRequest) {
  const modelDir = resolveModelDir(request.modelDir);
  await startBackend(request);
  const { model, metadata } = await loadModel(modelDir);
  const head = getModelSpec(metadata.architecture).head;
  const greedy = head === 'ctc' && Boolean(request.greedy);
  const textRules = decodingRules(metadata, head, greedy);
  const logitShift = request.uncalibrated ? undefined : logitShiftOf(metadata, head, greedy);
  const secondLook = request.secondLook === false ? undefined : await secondLookOf(modelDir, metadata, head, textRules);
  const firstLookOnly = metadata.zeroOReader !== undefined && !greedy && secondLook === undefined;
  return { modelDir, model, metadata, head, greedy, textRules, logitShift, secondLook, firstLookOnly };
}

/** The run record beside a saved model, if any; a damaged one is named with the fix. */
function modelRunRecord(modelDir: string): RunRecord | null {
  try {
    return findRunRecord(modelDir);
  } catch (err) {
    throw new Error(
      `${path.join(modelDir, 'run.json')} is damaged (${(err as Error).message}); restore it (a shipped model: \`git checkout -- ${path.join(modelDir, 'run.json')}\`) or delete it (evaluate then assumes CAPTCHA version 0.7.0 and cannot pick the run's test split)`,
    );
  }
}

/**
 * The generator version of a saved model's training images (its run.json config), so that fresh
 * test images look like them; 0.7.0 for a model without a run record.
 */
export function trainedCaptchaVersion(modelDir: string): CaptchaVersion {
  return modelRunRecord(modelDir)?.config.captchaVersion ?? '0.7.0';
}

/**
 * The kinds of CAPTCHA a saved model was trained to read, for fresh examples like them: each
 * version of its run's mix at each common size within the mix's ranges, else its one version at
 * its input size.
 */
export function trainedImageKinds(modelDir: string, input: { width: number; height: number }): Array<{ version: CaptchaVersion; width: number; height: number }> {
  const mix = modelRunRecord(modelDir)?.config.mix;
  if (!mix) return [{ version: trainedCaptchaVersion(modelDir), width: input.width, height: input.height }];
  const inside = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;
  const sizes = COMMON_CAPTCHA_SIZES.filter((s) => inside(s.width, mix.width) && inside(s.height, mix.height));
  const chosen = sizes.length > 0 ? sizes : [{ width: mix.width[1], height: mix.height[1] }];
  return [...new Set(mix.versions)].flatMap((version) => chosen.map((s) => ({ version, width: s.width, height: s.height })));
}

export function describeDecoding(head: HeadKind, textRules: TextRules | undefined, logitShift?: LogitShift, secondLook?: { weights: string }): string {
  if (head !== 'ctc') return 'one character per head';
  // The reader's weights are part of the name too.
  const again = secondLook ? `, then a second look at each 0/O (reader weights ${secondLook.weights})` : '';
  // The corner values are part of the name: a report of another calibration is not reused.
  const calibrated = logitShift
    ? `, ${logitShift.raise}/${logitShift.lower} calibrated by image size (shifts ${JSON.stringify(logitShift.shifts)} at ${logitShift.widths.join('-')} x ${logitShift.heights.join('-')} px)`
    : '';
  if (!textRules) return `CTC greedy, any length${calibrated}`;
  const { min, max, distinct } = textRules;
  return `CTC best path with ${formatTextLength([min, max])}${distinct ? ' distinct' : ''} characters${calibrated}${again}`;
}

/** A folder as written in a report's source line: without a trailing separator. */
function folderName(dir: string): string {
  return path.normalize(dir).replace(/(.)[\\/]+$/, '$1');
}

/**
 * The report file: `--out`, where a folder (an existing one, or a name ending in '/') gets the
 * default name inside it; else the default name in the model folder.
 */
function reportPath(out: string | undefined, modelDir: string, defaultName: string): string {
  if (out === undefined) return path.join(modelDir, defaultName);
  const isFolder = /[\\/]$/.test(out) || (fs.existsSync(out) && fs.statSync(out).isDirectory());
  return isFolder ? path.join(out, defaultName) : out;
}

/** Creates the folder of report `out` now, not after the evaluation, or names why it cannot with the fix. */
export function createReportFolder(out: string, flag = '--out'): void {
  try {
    createFolder(path.dirname(path.resolve(out))); // not mkdirSync's recursive option, which spins under /proc
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot create the folder of the report '${out}' (${e.code ?? e.message} at '${e.path ?? path.dirname(out)}'); choose another ${flag}`);
  }
}

/** Flags that only choose fresh CAPTCHAs, refused without --fresh rather than silently ignored. */
const FRESH_ONLY_FLAGS = [['length', '--length'], ['minLength', '--min-length'], ['captchaVersion', '--captcha-version'], ['seed', '--seed'], ['size', '--size']] as const;

export function register(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('score a saved model on a dataset folder, a labelled image folder or fresh CAPTCHAs')
    .option('--model-dir <dir>', `saved model (default ${DEFAULT_MODEL_DIR})`)
    .option('--data-dir <dir>', 'dataset folder (labels.txt) or image folder with labels.csv')
    .addOption(new Option('--split <which>', 'for the run\'s own dataset: its held-out test split, or all images').choices(['test', 'all']))
    .option('--fresh <n>', 'evaluate on n (>= 1) freshly generated CAPTCHAs instead', parseIntArg('fresh', 1))
    .option('--seed <n>', 'seed of the fresh CAPTCHAs (default 424242: not a training seed)', parseIntArg('seed'), 424242)
    .option('--length <n>', "characters per fresh CAPTCHA (default: the model's training texts)", parseIntArg('length', 1))
    .option('--min-length <n>', 'fresh CAPTCHAs of --min-length to --length characters, drawn per image', parseIntArg('min-length', 1))
    .addOption(new Option('--captcha-version <v>', "generator algorithm of the fresh CAPTCHAs (default: the model's training images')").choices(CAPTCHA_VERSIONS))
    .option('--size <WxH>', "size the fresh CAPTCHAs are drawn at, e.g. 170x80; they are fitted to the model input as predict fits files: resized, or letterboxed where the model was trained so (default: the input's)", parseSizeArg)
    .option('--greedy', 'CTC models: greedy decoding, any length and repeats, not only texts like the training texts (and no 0/O calibration)')
    .option('--uncalibrated', "CTC models: ignore the model's 0/O calibration by image size (metadata logitShift)")
    .option('--no-second-look', "CTC models: read without the model's second look at 0/O (metadata zeroOReader)")
    .option(
      '--out <file>',
      'report JSON (default <model-dir>/evaluation-<what was evaluated>.json, e.g. evaluation-fresh-2000-seed-424242-v0.7.0-4ch.json; ' +
        'a folder: that name inside it). A report of another evaluation is never overwritten',
    );
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    if (opts.fresh !== undefined && opts.dataDir !== undefined) throw new Error('pass either --data-dir <folder> or --fresh <n>, not both');
    if (opts.fresh === undefined) {
      for (const [key, flag] of FRESH_ONLY_FLAGS) {
        if (cmd.getOptionValueSource(key) === 'cli') throw new Error(`${flag} chooses the fresh CAPTCHAs; add --fresh <n>, or drop ${flag}`);
      }
      if (opts.dataDir === undefined) throw new Error('nothing to evaluate on: pass --data-dir <folder> or --fresh <n>');
      checkLabeledFolder(opts.dataDir);
    } else if (opts.split !== undefined) {
      throw new Error('--split chooses images of --data-dir; drop it with --fresh');
    }
    const { modelDir, model, metadata, head, greedy, textRules, logitShift, secondLook, firstLookOnly } = await openModelReader(opts);
    const { alphabet, input } = metadata;
    let batches: AsyncIterable<TextBatch>;
    let source: string;
    let images: EvaluatedImages;
    if (opts.fresh !== undefined) {
      const captchaVersion = opts.captchaVersion ?? trainedCaptchaVersion(modelDir);
      const length = freshTextLength(metadata, head, { length: opts.length, minLength: opts.minLength, greedy: opts.greedy });
      const size = opts.size as ImageSize | undefined;
      const drawn = size ? `, drawn at ${size.width}x${size.height}` : '';
      source = `${opts.fresh} fresh ${formatTextLength(length)}-character CAPTCHAs (seed ${opts.seed}, v${captchaVersion}${drawn})`;
      images = { kind: 'fresh', count: opts.fresh, seed: opts.seed, captchaVersion, length, size };
      batches = freshBatches({ count: opts.fresh, seed: opts.seed, input, alphabet, length, captchaVersion, imageSize: size });
    } else {
      const dataDir = folderName(opts.dataDir);
      const run = modelRunRecord(modelDir);
      const ownData = run && run.config.source === 'folder' && path.resolve(run.config.dataDir ?? '') === path.resolve(dataDir);
      const split = opts.split ?? (ownData ? 'test' : 'all');
      images = { kind: 'folder', dir: dataDir, split };
      if (split === 'test') {
        if (!run || !ownData) throw new Error(`--split test needs the model's own training folder; '${dataDir}' is not it (use --split all)`);
        const ds = await FolderDataset.open({ dir: dataDir, alphabet, input, resize: true });
        const { test } = splitIndices(run.config.datasetSize ?? ds.size, run.config.validationSplit, run.config.seed);
        source = `${dataDir}, held-out test split (${test.length} images)`;
        batches = ds.batches(test, 64);
      } else {
        const files = listLabeledImages(dataDir, alphabet);
        source = `${dataDir}, all ${files.length} images`;
        batches = fileBatches(files, input);
      }
    }
    const decoding = describeDecoding(head, textRules, logitShift, secondLook);
    const out = reportPath(opts.out, modelDir, reportFileName(images, greedy, logitShift !== undefined, firstLookOnly));
    checkReportTarget(out, { model: modelDir, source, decoding });
    createReportFolder(out);
    log(`evaluating ${metadata.architecture} from ${modelDir} on ${source}`);
    const report = await evaluateModel(model, batches, { alphabet, head, textRules, logitShift, secondLook });
    const { predictions, actual, ...rest } = report;
    const json = JSON.stringify({ model: modelDir, source, decoding, ...rest, misreads: rest.misreads.slice(0, 500) }, null, 1);
    writeFileAtomic(out, json);
    console.log(formatReport(report));
    log(`report written to ${out}`);
    void predictions;
    void actual;
  });
}
