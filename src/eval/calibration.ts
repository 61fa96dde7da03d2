/**
 * Fitting a CTC model's 0-against-O calibration by image size (`LogitShift`, src/models): read
 * fresh calibration CAPTCHAs of each (version x size) once, decode them under every shift of a
 * grid, and choose the four corner shifts whose bilinear blend reads the most images right.
 */
import * as tf from '@tensorflow/tfjs';
import type { CaptchaVersion } from '../captcha';
import { ctcConstrainedDecode, ctcGreedyDecode, ctcIndicesToText, type TextRules } from '../models/ctc';
import type { ModelMetadata } from '../models/io';
import { logitShiftAt, shiftLogitPair, type LogitShift } from '../models/logit-shift';
import { freshBatches, trainedTextLength } from './fresh';

export interface CalibrationOptions {
  versions: readonly CaptchaVersion[];
  /** Image widths drawn (px); the smallest and largest become the shift's corners. */
  widths: readonly number[];
  /** Image heights drawn (px); likewise. */
  heights: readonly number[];
  /** Fresh images per version and size. */
  count: number;
  /** Seed of the calibration images: one no training run or test set uses. */
  seed: string;
  /** Shifts tried (logits), ascending. */
  grid: readonly number[];
  /** The pair of look-alike characters: the first is raised by a positive shift. */
  raise: string;
  lower: string;
}

/** -4 to 4 logits in steps of 0.25. */
const SHIFT_GRID = Array.from({ length: 33 }, (_, k) => -4 + k * 0.25);

/** lepture's versions at the sizes the pretrained model was trained on (140-170 x 60-80), 500 each. */
export const DEFAULT_CALIBRATION_OPTIONS: CalibrationOptions = {
  versions: ['0.7.0', '0.7.1', '0.2.2', '0.2.2-pillow4'],
  widths: [140, 150, 160, 170],
  heights: [60, 70, 80],
  count: 500,
  seed: 'calibration',
  grid: SHIFT_GRID,
  raise: '0',
  lower: 'O',
};

/** How many images of one size were read right under each shift of the grid. */
export interface CalibrationTable {
  width: number;
  height: number;
  images: number;
  /** `correct[k]`: images read right with the shift `grid[k]`. */
  correct: number[];
}

/**
 * Reads `options.count` fresh images of every version at every size with `model` and counts,
 * per size, the images read right under each shift of `options.grid` (decoded with `textRules`,
 * greedily when unset). The model runs once per image; only the decoding is repeated.
 */
export async function calibrationTables(
  model: tf.LayersModel,
  metadata: ModelMetadata,
  textRules: TextRules | undefined,
  options: CalibrationOptions,
  onSize?: (table: CalibrationTable) => void,
): Promise<CalibrationTable[]> {
  const { alphabet } = metadata;
  const tables: CalibrationTable[] = [];
  for (const height of options.heights) {
    for (const width of options.widths) {
      const table: CalibrationTable = { width, height, images: 0, correct: options.grid.map(() => 0) };
      for (const version of options.versions) {
        const batches = freshBatches({
          count: options.count,
          seed: `${options.seed}/${version}/${width}x${height}`,
          input: metadata.input,
          imageSize: { width, height },
          alphabet,
          length: trainedTextLength(metadata),
          captchaVersion: version,
        });
        for await (const batch of batches) {
          const logits = tf.tidy(() => model.predict(batch.xs) as tf.Tensor3D);
          batch.xs.dispose();
          try {
            for (const [k, value] of options.grid.entries()) {
              // every image of a table has the same size: one shift for the whole batch
              const shifted = shiftLogitPair(logits, options, batch.texts.map(() => value), alphabet);
              let paths: number[][];
              try {
                paths = await (textRules ? ctcConstrainedDecode(shifted, textRules) : ctcGreedyDecode(shifted));
              } finally {
                shifted.dispose();
              }
              ctcIndicesToText(paths, alphabet).forEach((text, i) => {
                if (text === batch.texts[i]) table.correct[k]++;
              });
            }
          } finally {
            logits.dispose();
          }
          table.images += batch.texts.length;
        }
      }
      tables.push(table);
      onSize?.(table);
    }
  }
  return tables;
}

/** Images read right at `value`, interpolated between the grid's neighbours (held at its ends). */
function correctAt(table: CalibrationTable, grid: readonly number[], value: number): number {
  if (value <= grid[0]) return table.correct[0];
  const last = grid.length - 1;
  if (value >= grid[last]) return table.correct[last];
  let k = 0;
  while (grid[k + 1] < value) k++;
  const f = (value - grid[k]) / (grid[k + 1] - grid[k]);
  return (1 - f) * table.correct[k] + f * table.correct[k + 1];
}

export interface CalibrationFit {
  logitShift: LogitShift;
  /**
   * Images read right with the fitted shift (an estimate on the fit's own images: each size's
   * count interpolated between the two shifts of the grid around its shift), and with none (exact).
   */
  correct: number;
  uncalibratedCorrect: number;
  images: number;
}

/**
 * The corner shifts (each from the grid) whose bilinear blend over the tables' sizes reads the
 * most images right; of equals, the one with the smallest shifts (no shift, unless one helps).
 * Pure: every combination of the grid is tried (33^4 for the default grid, well under a second).
 */
export function fitLogitShift(tables: readonly CalibrationTable[], options: Pick<CalibrationOptions, 'grid' | 'raise' | 'lower'>): CalibrationFit {
  const { grid } = options;
  if (tables.length === 0) throw new Error('fitLogitShift: no calibration tables; read some calibration images first');
  const zero = grid.indexOf(0);
  if (zero < 0) throw new Error('fitLogitShift: the grid of shifts must hold 0 (reading without a shift)');
  const widths: [number, number] = [Math.min(...tables.map((t) => t.width)), Math.max(...tables.map((t) => t.width))];
  const heights: [number, number] = [Math.min(...tables.map((t) => t.height)), Math.max(...tables.map((t) => t.height))];
  const shape = (shifts: LogitShift['shifts']): LogitShift => ({ raise: options.raise, lower: options.lower, widths, heights, shifts });
  let best = { shifts: [[0, 0], [0, 0]] as LogitShift['shifts'], correct: -1, size: Infinity };
  for (const a of grid) for (const b of grid) for (const c of grid) for (const d of grid) {
    const candidate = shape([[a, b], [c, d]]);
    let correct = 0;
    for (const t of tables) correct += correctAt(t, grid, logitShiftAt(candidate, t));
    const size = Math.abs(a) + Math.abs(b) + Math.abs(c) + Math.abs(d);
    // a tolerance for sums of interpolated counts
    if (correct > best.correct + 1e-9 || (Math.abs(correct - best.correct) <= 1e-9 && size < best.size)) {
      best = { shifts: [[a, b], [c, d]], correct, size };
    }
  }
  return {
    logitShift: shape(best.shifts),
    correct: best.correct,
    uncalibratedCorrect: tables.reduce((sum, t) => sum + t.correct[zero], 0),
    images: tables.reduce((sum, t) => sum + t.images, 0),
  };
}
