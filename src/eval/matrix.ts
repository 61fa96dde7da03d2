/**
 * The evaluation matrix: one model scored on fresh CAPTCHAs of every (lepture version x image
 * size) cell, each drawn at its own size and fitted to the model input as `predict` fits
 * files. Cells are independent, so a matrix can be filled in parts: `evaluateMatrix` skips the
 * cells a previous report already holds for the same settings.
 */
import * as fs from 'fs';
import type * as tf from '@tensorflow/tfjs';
import type { CaptchaVersion } from '../captcha';
import type { ModelMetadata } from '../models/io';
import type { TextRules } from '../models/ctc';
import type { LogitShift } from '../models/logit-shift';
import type { HeadKind } from '../models/types';
import type { InputShape } from '../data/tensors';
import { evaluateModel } from './evaluate';
import { freshBatches, trainedTextLength, type ImageSize } from './fresh';
import type { ConfusionPair } from './metrics';
import { ROUND_PAIR } from './zero-o-reader';

export interface MatrixOptions {
  versions: readonly CaptchaVersion[];
  sizes: readonly ImageSize[];
  /** Fresh images per cell. */
  count: number;
  /** Seed of every cell's images (the same texts in each cell, drawn by another version or at another size). */
  seed: number;
}

/** The common sizes of lepture CAPTCHAs: its default, the 170x80 of captcha_break and the 140x80 of the 2017 answer. */
export const COMMON_CAPTCHA_SIZES: readonly ImageSize[] = [
  { width: 160, height: 60 },
  { width: 170, height: 80 },
  { width: 140, height: 80 },
];

/** lepture's three releases in use (0.2.2 also as drawn in 2017) at the three common sizes and one between. */
export const DEFAULT_MATRIX_OPTIONS: MatrixOptions = {
  versions: ['0.7.0', '0.7.1', '0.2.2', '0.2.2-pillow4'],
  sizes: [...COMMON_CAPTCHA_SIZES, { width: 150, height: 70 }],
  count: 10000,
  seed: 424242,
};

export interface MatrixCell {
  version: CaptchaVersion;
  width: number;
  height: number;
  count: number;
  seed: number;
  wholeAccuracy: number;
  characterAccuracy: number;
  /** Images read wrong. */
  errors: number;
  /** Of those, images whose only mistakes swap 0 and O. */
  zeroOErrors: number;
  /** The most frequent character confusions. */
  confusionPairs: ConfusionPair[];
  /** Wall time of the cell: generation, resizing and prediction. */
  seconds: number;
}

export interface MatrixReport {
  model: string;
  decoding: string;
  /** A digest of the model's weights: cells of other weights (a retrained model) are not reused. */
  weights?: string;
  cells: MatrixCell[];
}

/** What reading a model needs: the model, how its outputs are decoded, and its input. */
export interface MatrixModel {
  model: tf.LayersModel;
  metadata: ModelMetadata;
  head: HeadKind;
  textRules?: TextRules;
  /** The 0/O calibration by image size, if it is read with one. */
  logitShift?: LogitShift;
  /** The second look at 0/O, if it is read with one. */
  secondLook?: { reader: tf.LayersModel; input: InputShape };
}

/** True when `predicted` differs from `actual` only by 0 <-> O swaps. */
export function onlyZeroOSwaps(actual: string, predicted: string): boolean {
  if (actual.length !== predicted.length || actual === predicted) return false;
  const [zero, oh] = ROUND_PAIR;
  return [...actual].every((c, i) => c === predicted[i] || (c === zero && predicted[i] === oh) || (c === oh && predicted[i] === zero));
}

/**
 * What kind of misread this is, for the 0/O question: a swap of the one round glyph of the text
 * (`lone 0/O`, what the reader answers), a swap within a text holding both a 0 and an O (`0/O
 * pair`), a misread that touches no 0 or O (`no 0/O`), or anything else (`other`: a round glyph
 * read as another character or the other way, a swap beside another error, a wrong length).
 */
export type MisreadKind = 'lone 0/O' | '0/O pair' | 'no 0/O' | 'other';

export const MISREAD_KINDS: readonly MisreadKind[] = ['lone 0/O', '0/O pair', 'no 0/O', 'other'];

export function misreadKind(actual: string, predicted: string): MisreadKind {
  if (actual === predicted) throw new Error(`'${actual}' was read right: only misreads have a kind`);
  const round = (c: string | undefined) => c !== undefined && (ROUND_PAIR as readonly string[]).includes(c);
  if (onlyZeroOSwaps(actual, predicted)) return [...actual].filter(round).length === 1 ? 'lone 0/O' : '0/O pair';
  if (actual.length === predicted.length && [...actual].every((c, i) => c === predicted[i] || (!round(c) && !round(predicted[i])))) return 'no 0/O';
  return 'other';
}

const sameCell = (a: Pick<MatrixCell, 'version' | 'width' | 'height' | 'count' | 'seed'>, b: typeof a): boolean =>
  a.version === b.version && a.width === b.width && a.height === b.height && a.count === b.count && a.seed === b.seed;

/**
 * Scores every cell of `options` not already in `previous.cells`, calling `onCell` with the
 * report so far after each (to save it), and returns the report in `options`' cell order.
 */
export async function evaluateMatrix(
  reader: MatrixModel,
  options: MatrixOptions,
  report: MatrixReport,
  onCell?: (report: MatrixReport, cell: MatrixCell) => void,
): Promise<MatrixReport> {
  const { model, metadata, head, textRules, logitShift, secondLook } = reader;
  const wanted = options.versions.flatMap((version) => options.sizes.map((size) => ({ version, ...size, count: options.count, seed: options.seed })));
  const cells = [...report.cells];
  for (const cell of wanted) {
    if (cells.some((c) => sameCell(c, cell))) continue;
    const started = performance.now();
    const batches = freshBatches({
      count: cell.count,
      seed: cell.seed,
      input: metadata.input,
      imageSize: { width: cell.width, height: cell.height },
      alphabet: metadata.alphabet,
      length: trainedTextLength(metadata),
      captchaVersion: cell.version,
    });
    const r = await evaluateModel(model, batches, { alphabet: metadata.alphabet, head, textRules, logitShift, secondLook });
    const done: MatrixCell = {
      ...cell,
      wholeAccuracy: r.wholeAccuracy,
      characterAccuracy: r.characterAccuracy,
      errors: r.misreads.length,
      zeroOErrors: r.misreads.filter((m) => onlyZeroOSwaps(m.actual, m.predicted)).length,
      confusionPairs: r.confusionPairs.slice(0, 5),
      seconds: (performance.now() - started) / 1000,
    };
    cells.push(done);
    onCell?.({ ...report, cells: [...cells] }, done);
  }
  const ordered = wanted.map((w) => cells.find((c) => sameCell(c, w))!);
  return { ...report, cells: [...ordered, ...cells.filter((c) => !wanted.some((w) => sameCell(c, w)))] };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * A Markdown table: a row per version, a column per size, each cell
 * `whole-image % (errors, of which 0/O)`; cells not evaluated are '-'.
 */
export function formatMatrixTable(report: MatrixReport): string {
  const versions = [...new Set(report.cells.map((c) => c.version))];
  const sizes = [...new Map(report.cells.map((c) => [`${c.width}x${c.height}`, c])).keys()];
  const header = `| version | ${sizes.join(' | ')} |`;
  const rule = `|---|${sizes.map(() => '---').join('|')}|`;
  const rows = versions.map((v) => {
    const cols = sizes.map((s) => {
      const c = report.cells.find((x) => x.version === v && `${x.width}x${x.height}` === s);
      return c ? `${pct(c.wholeAccuracy)} (${c.errors}; 0/O ${c.zeroOErrors})` : '-';
    });
    return `| ${v} | ${cols.join(' | ')} |`;
  });
  return [header, rule, ...rows].join('\n');
}

/** The matrix report saved at `file` (by `captcha-lab matrix`), or null when there is none. */
export function loadMatrixReport(file: string): MatrixReport | null {
  if (!fs.existsSync(file)) return null;
  let report: Partial<MatrixReport> | null = null;
  try {
    report = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<MatrixReport>;
  } catch {
    // not JSON: said below, like JSON without cells
  }
  if (!report || !Array.isArray(report.cells)) throw new Error(`'${file}' is not a matrix report (no cells); rewrite it with captcha-lab matrix --out ${file}`);
  return report as MatrixReport;
}
