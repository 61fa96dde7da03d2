/**
 * A calibration of how a CTC model weighs two look-alike characters (lepture's 0 and O) against
 * each other, by the size the image had before it was fitted to the model input.
 *
 * Why: lepture draws its 0 and O the same size (each glyph's ink is stretched to the font's
 * character box), so only the shape of their strokes tells them apart; it draws glyphs at fixed
 * pixel sizes and squeezes the text into the image width, so how thick those strokes look depends
 * on the image's own width and height. A model trained on a mix of sizes leans one way at each size
 * (at 60 px high it reads O as 0, at 80 px 0 as O). Moving the decision boundary by the known
 * image size, fitted on calibration images (`fitLogitShift` in src/eval), takes that lean out.
 */
import * as tf from '@tensorflow/tfjs';

/** Width and height of an image before fitting, px. */
export interface SourceSize {
  width: number;
  height: number;
}

/**
 * Adds `shift / 2` to the logit of `raise` and subtracts it from that of `lower` in every frame,
 * `shift` interpolated bilinearly from its values at the corners of `widths` x `heights` (held
 * constant outside them). A positive shift favours `raise`.
 */
export interface LogitShift {
  raise: string;
  lower: string;
  /** The two widths (px) of the columns of `shifts`, smaller first. */
  widths: [number, number];
  /** The two heights (px) of the rows of `shifts`, smaller first. */
  heights: [number, number];
  /** `shifts[row][column]`: row 0 at heights[0], column 0 at widths[0]; in logits. */
  shifts: [[number, number], [number, number]];
}

/** 0 at the low edge, 1 at the high one, held outside. */
function edgeFraction(value: number, [low, high]: [number, number]): number {
  if (high === low) return 0;
  return Math.min(1, Math.max(0, (value - low) / (high - low)));
}

/** The shift for an image of `size`: bilinear between the four corners, the nearest edge outside. */
export function logitShiftAt(shift: LogitShift, size: SourceSize): number {
  const u = edgeFraction(size.width, shift.widths);
  const v = edgeFraction(size.height, shift.heights);
  const [[a, b], [c, d]] = shift.shifts;
  return (1 - v) * ((1 - u) * a + u * b) + v * ((1 - u) * c + u * d);
}

/**
 * `logits` [B, T, C] with `amounts[b] / 2` added to the `pair.raise` logit of example b and
 * subtracted from its `pair.lower` logit, in every frame. The alphabet's index k is class k (the
 * blank is last).
 */
export function shiftLogitPair(logits: tf.Tensor3D, pair: Pick<LogitShift, 'raise' | 'lower'>, amounts: readonly number[], alphabet: string): tf.Tensor3D {
  const [batch, , classes] = logits.shape;
  if (amounts.length !== batch) throw new Error(`shiftLogitPair: ${amounts.length} shift amounts for a batch of ${batch}; give one amount per example`);
  const raise = alphabet.indexOf(pair.raise);
  const lower = alphabet.indexOf(pair.lower);
  if (raise < 0 || lower < 0) throw new Error(`shiftLogits: the alphabet '${alphabet}' lacks '${raise < 0 ? pair.raise : pair.lower}'; a shift only applies to a model that reads both characters`);
  const offsets = new Float32Array(batch * classes);
  amounts.forEach((amount, b) => {
    offsets[b * classes + raise] += amount / 2;
    offsets[b * classes + lower] -= amount / 2;
  });
  return tf.tidy(() => tf.add(logits, tf.tensor3d(offsets, [batch, 1, classes])));
}

/**
 * `logits` [B, T, C] with each example's shift applied (`sizes[b]`: its image's size before
 * fitting; see {@link shiftLogitPair}).
 */
export function shiftLogits(logits: tf.Tensor3D, shift: LogitShift, sizes: readonly SourceSize[], alphabet: string): tf.Tensor3D {
  const batch = logits.shape[0];
  if (sizes.length !== batch) throw new Error(`shiftLogits: ${sizes.length} image sizes for a batch of ${batch}; give one size per image`);
  return shiftLogitPair(logits, shift, sizes.map((size) => logitShiftAt(shift, size)), alphabet);
}

const isPair = (v: unknown, ok: (x: unknown) => boolean): boolean => Array.isArray(v) && v.length === 2 && v.every(ok);
const isFiniteNumber = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);
const isSide = (x: unknown): boolean => isFiniteNumber(x) && (x as number) > 0;

/**
 * Why `value` is not a usable logit shift for a model reading `alphabet`, or null when it is (a
 * model's `metadata.json` holds one as `logitShift`).
 */
export function logitShiftProblem(value: unknown, alphabet: string): string | null {
  const s = value as Partial<LogitShift> | null;
  if (typeof s !== 'object' || s === null) return 'it is not an object';
  for (const key of ['raise', 'lower'] as const) {
    const c = s[key];
    if (typeof c !== 'string' || c.length !== 1 || !alphabet.includes(c)) return `${key} must be one character of the alphabet, got ${JSON.stringify(c)}`;
  }
  if (s.raise === s.lower) return `raise and lower are the same character '${s.raise}'`;
  for (const key of ['widths', 'heights'] as const) {
    const pair = s[key];
    if (!isPair(pair, isSide) || pair![0] > pair![1]) return `${key} must be two sizes in px, smaller first, got ${JSON.stringify(pair)}`;
  }
  if (!isPair(s.shifts, (row) => isPair(row, isFiniteNumber))) return `shifts must be [[n, n], [n, n]] of finite numbers, got ${JSON.stringify(s.shifts)}`;
  return null;
}
