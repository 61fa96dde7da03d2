/** `captcha-lab evaluate`: accuracy, confusion pairs and matrix of a saved model, as JSON. */
import * as fs from 'fs';
import * as path from 'path';
import { Command, Option } from 'commander';
import { writeFileAtomic } from '../files';
import { FolderDataset } from '../data/loader';
import { listLabeledFiles } from '../data/labeled-files';
import { splitIndices } from '../data/split';
import { decodingRules, evaluateModel, formatReport, formatTextLength, freshTextLength, type TextBatch } from '../eval';
import { fileBatches } from '../eval/image-batches';
import { freshBatches } from '../eval/fresh';
import type { CaptchaVersion } from '../captcha';
import { getModelSpec, loadModel, type HeadKind, type TextRules } from '../models';
import { findRunRecord } from '../train';
import { addBackendOptions, parseIntArg, stageLogger, startBackend } from './common';

export const DEFAULT_MODEL_DIR = path.join('models', 'pretrained');

export function resolveModelDir(dir: string | undefined): string {
  const chosen = dir ?? DEFAULT_MODEL_DIR;
  if (!fs.existsSync(path.join(chosen, 'model.json'))) {
    throw new Error(`no model in '${chosen}'; pass --model-dir models/<run> of a trained run`);
  }
  return chosen;
}

/**
 * The generator version of a saved model's training images (its run.json config), so that fresh
 * test images look like them; 0.7.0 for a model without a run record.
 */
export function trainedCaptchaVersion(modelDir: string): CaptchaVersion {
  return findRunRecord(modelDir)?.config.captchaVersion ?? '0.7.0';
}

function describeDecoding(head: HeadKind, textRules: TextRules | undefined): string {
  if (head !== 'ctc') return 'one character per head';
  if (!textRules) return 'CTC greedy, any length';
  const { min, max, distinct } = textRules;
  return `CTC best path with ${formatTextLength([min, max])}${distinct ? ' distinct' : ''} characters`;
}

export function register(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('score a saved model on a dataset folder, a labelled image folder or fresh CAPTCHAs')
    .option('--model-dir <dir>', `saved model (default ${DEFAULT_MODEL_DIR})`)
    .option('--data-dir <dir>', 'dataset folder (labels.txt) or image folder with labels.csv')
    .addOption(new Option('--split <which>', 'for the run\'s own dataset: its held-out test split, or all images').choices(['test', 'all']))
    .option('--fresh <n>', 'evaluate on n freshly generated CAPTCHAs instead', parseIntArg('fresh'))
    .option('--seed <n>', 'seed of the fresh CAPTCHAs (default 424242: not a training seed)', parseIntArg('seed'), 424242)
    .option('--length <n>', "characters per fresh CAPTCHA (default: the model's training texts)", parseIntArg('length', 1))
    .option('--min-length <n>', 'fresh CAPTCHAs of --min-length to --length characters, drawn per image', parseIntArg('min-length', 1))
    .addOption(new Option('--captcha-version <v>', "generator algorithm of the fresh CAPTCHAs (default: the model's training images')").choices(['0.7.0', '0.7.1']))
    .option('--greedy', 'CTC models: greedy decoding, any length and repeats, not only texts like the training texts')
    .option('--out <file>', 'report JSON (default <model-dir>/evaluation.json)');
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    await startBackend(opts);
    const modelDir = resolveModelDir(opts.modelDir);
    const { model, metadata } = await loadModel(modelDir);
    const head = getModelSpec(metadata.architecture).head;
    const { alphabet, input } = metadata;
    const run = findRunRecord(modelDir);
    let batches: AsyncIterable<TextBatch>;
    let source: string;
    if (opts.fresh) {
      const captchaVersion = opts.captchaVersion ?? trainedCaptchaVersion(modelDir);
      const length = freshTextLength(metadata, head, { length: opts.length, minLength: opts.minLength, greedy: opts.greedy });
      source = `${opts.fresh} fresh ${formatTextLength(length)}-character CAPTCHAs (seed ${opts.seed}, v${captchaVersion})`;
      batches = freshBatches({ count: opts.fresh, seed: opts.seed, input, alphabet, length, captchaVersion });
    } else if (opts.length !== undefined || opts.minLength !== undefined) {
      throw new Error('--length and --min-length choose the texts of fresh CAPTCHAs; add --fresh <n>');
    } else if (opts.dataDir) {
      const ownData = run && run.config.source === 'folder' && path.resolve(run.config.dataDir ?? '') === path.resolve(opts.dataDir);
      const split = opts.split ?? (ownData ? 'test' : 'all');
      if (split === 'test') {
        if (!run || !ownData) throw new Error(`--split test needs the model's own training folder; '${opts.dataDir}' is not it (use --split all)`);
        const ds = await FolderDataset.open({ dir: opts.dataDir, alphabet, input, resize: true });
        const { test } = splitIndices(run.config.datasetSize ?? ds.size, run.config.validationSplit, run.config.seed);
        source = `${opts.dataDir}, held-out test split (${test.length} images)`;
        batches = ds.batches(test, 64);
      } else {
        const files = listLabeledFiles(opts.dataDir, alphabet);
        source = `${opts.dataDir}, all ${files.length} images`;
        batches = fileBatches(files, input);
      }
    } else {
      throw new Error('nothing to evaluate on: pass --data-dir <folder> or --fresh <n>');
    }
    log(`evaluating ${metadata.architecture} from ${modelDir} on ${source}`);
    const textRules = decodingRules(metadata, head, Boolean(opts.greedy));
    const report = await evaluateModel(model, batches, { alphabet, head, textRules });
    const out = opts.out ?? path.join(modelDir, 'evaluation.json');
    const { predictions, actual, ...rest } = report;
    const json = JSON.stringify({ model: modelDir, source, decoding: describeDecoding(head, textRules), ...rest, misreads: rest.misreads.slice(0, 500) }, null, 1);
    writeFileAtomic(out, json);
    console.log(formatReport(report));
    log(`report written to ${out}`);
    void predictions;
    void actual;
  });
}
