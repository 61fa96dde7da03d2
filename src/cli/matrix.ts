/**
 * `captcha-lab matrix`: a saved model scored on fresh CAPTCHAs of every (version x size) cell,
 * saved after each cell so that an interrupted matrix continues where it stopped.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command, InvalidArgumentError } from 'commander';
import type { CaptchaVersion } from '../captcha';
import { writeFileAtomic } from '../files';
import { DEFAULT_MATRIX_OPTIONS, evaluateMatrix, formatMatrixTable, loadMatrixReport, parseImageSize, type ImageSize, type MatrixReport } from '../eval';
import { addBackendOptions, parseIntArg, parseVersionListArg, pct, stageLogger } from './common';
import { createReportFolder, describeDecoding, openModelReader } from './evaluate';
import { weightsDigest } from '../models';

/** A comma-separated list, each item parsed by `parse` (its error becomes commander's). */
function listArg<T>(parse: (item: string) => T) {
  return (value: string): T[] => {
    const items = value.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new InvalidArgumentError(`expected a comma-separated list, got '${value}'`);
    try {
      return items.map(parse);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

/**
 * The Markdown table goes beside the report (`<out>.md`): a file there that is not a matrix table
 * (`--out docs/pretrained.json` beside docs/pretrained.md) is refused, not overwritten.
 */
export function checkTableTarget(table: string): void {
  if (!fs.existsSync(table)) return;
  const isTable = fs.statSync(table).isFile() && fs.readFileSync(table, 'utf8').startsWith('| version |');
  if (!isTable) throw new Error(`'${table}' exists and is not a matrix table, which the matrix writes beside its report; pass another --out, or move the file away first`);
}

/**
 * The report already at `file`, if it is this model's with this decoding and these weights (a
 * report of the same folder's earlier weights: null, so every cell is scored again); a report of
 * another model or decoding is refused with the fix.
 */
export function readPreviousMatrix(file: string, model: string, decoding: string, weights: string, log: (line: string) => void = () => undefined): MatrixReport | null {
  let old: MatrixReport | null;
  try {
    old = loadMatrixReport(file);
  } catch {
    throw new Error(`'${file}' exists and is not a matrix report; pass another --out, or move the file away first`);
  }
  if (!old) return null;
  if (typeof old.model !== 'string' || path.resolve(old.model) !== path.resolve(model) || old.decoding !== decoding) {
    throw new Error(`'${file}' holds the matrix of another model or decoding (${old.model}; ${old.decoding}); pass --out <file> to keep both, or delete it first`);
  }
  if (old.weights !== weights) {
    log(`${file} scored other weights of ${model} (retrained since?): scoring every cell again`);
    return null;
  }
  return old;
}

export function register(program: Command): void {
  const d = DEFAULT_MATRIX_OPTIONS;
  const cmd = program
    .command('matrix')
    .description('score a saved model on fresh CAPTCHAs of every lepture version x image size; continues an interrupted matrix')
    .option('--model-dir <dir>', 'saved model (default models/pretrained)')
    .option('--versions <list>', `lepture versions (default ${d.versions.join(',')})`, parseVersionListArg('versions'))
    .option('--sizes <list>', `image sizes WxH (default ${d.sizes.map((s) => `${s.width}x${s.height}`).join(',')})`, listArg(parseImageSize))
    .option('--count <n>', `fresh images per cell (default ${d.count})`, parseIntArg('count', 1))
    .option('--seed <n>', `seed of the images (default ${d.seed}: not a training seed)`, parseIntArg('seed'))
    .option('--uncalibrated', "ignore the model's 0/O calibration by image size (metadata logitShift)")
    .option('--no-second-look', "read without the model's second look at 0/O (metadata zeroOReader)")
    .option('--out <file>', 'report JSON (default <model-dir>/evaluation-matrix.json, -first-look.json with --no-second-look; a Markdown table is written beside it, .md)');
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    const { modelDir, model, metadata, head, textRules, logitShift, secondLook, firstLookOnly } = await openModelReader(opts);
    const decoding = describeDecoding(head, textRules, logitShift, secondLook);
    // Read without its reader, a model's matrix goes beside the one read with it, not over it.
    const out: string = opts.out ?? path.join(modelDir, firstLookOnly ? 'evaluation-matrix-first-look.json' : 'evaluation-matrix.json');
    const table = out.replace(/\.json$/i, '') + '.md';
    const weights = weightsDigest(modelDir);
    const previous = readPreviousMatrix(out, modelDir, decoding, weights, log);
    checkTableTarget(table);
    createReportFolder(out);
    const options = {
      versions: (opts.versions as CaptchaVersion[] | undefined) ?? d.versions,
      sizes: (opts.sizes as ImageSize[] | undefined) ?? d.sizes,
      count: (opts.count as number | undefined) ?? d.count,
      seed: (opts.seed as number | undefined) ?? d.seed,
    };
    if (previous) log(`continuing ${out}: ${previous.cells.length} cells already scored`);
    const save = (report: MatrixReport): void => {
      writeFileAtomic(out, JSON.stringify(report, null, 1));
      writeFileAtomic(table, `${formatMatrixTable(report)}\n`);
    };
    const report = await evaluateMatrix({ model, metadata, head, textRules, logitShift, secondLook }, options, previous ?? { model: modelDir, decoding, weights, cells: [] }, (r, c) => {
      save(r);
      log(`v${c.version} ${c.width}x${c.height}: whole ${pct(c.wholeAccuracy)}, character ${pct(c.characterAccuracy)}, ${c.errors} errors (${c.zeroOErrors} only 0/O), ${c.seconds.toFixed(0)} s`);
    });
    save(report);
    console.log(formatMatrixTable(report));
    log(`matrix written to ${out} and ${table}`);
  });
}
