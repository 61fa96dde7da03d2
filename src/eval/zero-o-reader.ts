/**
 * A second look at 0 and O. The CRNN reads a CAPTCHA through its input (160x60, letterboxed), and
 * its 0-against-O lean changes with the image's size and version (docs/pretrained.md). A small
 * classifier that sees only the round glyph, cut out of the original image at its own resolution,
 * answers that one question again: the CRNN's output says where the glyph is (the frames that
 * hold the 0/O probability) and which way it leans there, `cropAround` cuts a fixed window around
 * it, and the reader, given both, answers instead of the CRNN.
 *
 * A text holding both a 0 and an O (its characters are distinct, so one of each) has both glyphs
 * read, and the O goes to the rounder one (docs/pretrained.md, rule 5). The reader was trained on
 * lone glyphs only.
 *
 * A window expert (`createWindowExpert`) reads the window alone, without the CTC model, so it can
 * learn from windows drawn fresh every step; `withWindowExpert` adds its logit, weighted, to the
 * reader's, in one model that is used as a reader (docs/pretrained.md, rule 9).
 */
import * as tf from '@tensorflow/tfjs';
import type { RandomSource, RgbImage } from '../captcha';
import { letterboxBox, type InputShape } from '../data/tensors';

/** The two characters the reader tells apart: label 0 is '0', label 1 is 'O'. */
export const ROUND_PAIR = ['0', 'O'] as const;

/** The window cut around a round glyph, px of the original image: wide enough for 0.2.2's largest glyph (42 px) and some slack. */
export const ZERO_O_CROP = { width: 56, height: 80 } as const;

/**
 * A text of 4 distinct characters of `alphabet` with exactly one 0 or O, at a random place: what
 * the reader's training crops and the clutter study draw, so that every text has a glyph to read.
 */
export function textWithOneRoundGlyph(rng: RandomSource, alphabet: string): string {
  const round = ROUND_PAIR as readonly string[];
  if (!round.every((c) => alphabet.includes(c))) throw new Error(`the alphabet '${alphabet}' lacks 0 or O; a text with a round glyph needs both`);
  const others = [...alphabet].filter((c) => !round.includes(c));
  if (others.length < 3) throw new Error(`the alphabet '${alphabet}' has ${others.length} characters besides 0 and O; a text of 4 distinct characters needs 3`);
  const chars: string[] = [];
  while (chars.length < 3) {
    const c = others[rng.randbelow(others.length)];
    if (!chars.includes(c)) chars.push(c);
  }
  chars.splice(rng.randbelow(4), 0, ROUND_PAIR[rng.randbelow(2)]);
  return chars.join('');
}

/**
 * Where the one round glyph is in a CTC output, and which way the CTC model leans there: the frame
 * with the most 0 + O probability, refined to the probability-weighted mean of the frames within 2
 * of it, and log(P(O) / P(0)) summed over those frames. Null when no frame gives 0 or O even 5%.
 * @param probs softmax output of one image, [steps, classes] row-major
 */
export function roundGlyphFrame(probs: ArrayLike<number>, steps: number, classes: number, alphabet: string): { frame: number; logOdds: number } | null {
  return roundGlyphFrames(probs, steps, classes, alphabet, 1)?.[0] ?? null;
}

/**
 * Frames at least this far apart hold different round glyphs. The shipped CRNN has 4 input px per
 * frame; neighbouring glyphs' centres lie at least about three quarters of a glyph's width apart
 * (lepture overlaps them by up to a quarter of the average width): 15 px or more, about 4 frames,
 * for the narrowest glyphs of the mix (about 20 px wide once a 140x80 CAPTCHA is letterboxed into
 * 160x60), while one glyph's CTC peak spreads over 1-3 frames. A pair not found this way is left
 * as the decoder read it.
 */
export const ROUND_GLYPH_SEPARATION = 3;

/**
 * Where `count` round glyphs are in a CTC output (a text with both a 0 and an O has two), in
 * reading order: the frame with the most 0 + O probability, then the most probable frame at least
 * `ROUND_GLYPH_SEPARATION` from those already found; each refined and scored as in
 * `roundGlyphFrame` over the frames within 2 of it that are nearer to it than to the others. Null
 * when fewer than `count` such frames give 0 or O 5%.
 */
export function roundGlyphFrames(probs: ArrayLike<number>, steps: number, classes: number, alphabet: string, count: number): Array<{ frame: number; logOdds: number }> | null {
  const [zero, oh] = ROUND_PAIR.map((c) => alphabet.indexOf(c));
  if (zero < 0 || oh < 0) throw new Error(`the alphabet '${alphabet}' lacks 0 or O; the second look reads only models that have both`);
  if (probs.length !== steps * classes) throw new Error(`expected ${steps}x${classes} probabilities, got ${probs.length}`);
  const mass = (t: number) => probs[t * classes + zero] + probs[t * classes + oh];
  const peaks: number[] = [];
  while (peaks.length < count) {
    let best = -1;
    for (let t = 0; t < steps; t++) {
      if (peaks.some((p) => Math.abs(t - p) < ROUND_GLYPH_SEPARATION)) continue;
      if (best < 0 || mass(t) > mass(best)) best = t;
    }
    if (best < 0 || mass(best) < 0.05) return null;
    peaks.push(best);
  }
  peaks.sort((a, b) => a - b);
  return peaks.map((peak) => {
    let [sum, weighted, zeros, ohs] = [0, 0, 0, 0];
    for (let t = Math.max(0, peak - 2); t <= Math.min(steps - 1, peak + 2); t++) {
      if (peaks.some((p) => p !== peak && Math.abs(t - p) <= Math.abs(t - peak))) continue;
      [sum, weighted] = [sum + mass(t), weighted + mass(t) * t];
      [zeros, ohs] = [zeros + probs[t * classes + zero], ohs + probs[t * classes + oh]];
    }
    const logOdds = Math.log(Math.max(ohs, 1e-9)) - Math.log(Math.max(zeros, 1e-9));
    return { frame: weighted / sum, logOdds: Math.max(-LOG_ODDS_LIMIT, Math.min(LOG_ODDS_LIMIT, logOdds)) };
  });
}

/** The CTC model's log-odds given to the reader are clipped to +-this: beyond it, the model is sure either way. */
export const LOG_ODDS_LIMIT = 12;

/**
 * The column of the original image that output frame `frame` looks at: its centre in the model's
 * input, mapped back through the fit (letterbox: scale and offset; stretch: scale).
 */
export function frameToSourceX(frame: number, steps: number, input: InputShape, source: { width: number; height: number }): number {
  const x = ((frame + 0.5) * input.width) / steps;
  if ((input.fit ?? 'stretch') === 'stretch') return (x * source.width) / input.width;
  const box = letterboxBox(source.width, source.height, input);
  return ((x - box.left) * source.width) / box.width;
}

/**
 * A `ZERO_O_CROP` window of `image` centred on column `cx`, as grey ink strength 0-255: the
 * lightest pixel of the window (the background) is 0, the darkest 255, so ink colour does not
 * matter. Outside the image counts as background; images taller than the window lose their top
 * and bottom rows equally.
 */
export function cropAround(image: RgbImage, cx: number): Uint8Array {
  const { width: cw, height: ch } = ZERO_O_CROP;
  const left = Math.round(cx - cw / 2);
  const top = Math.floor((image.height - ch) / 2);
  const grey = new Float32Array(cw * ch).fill(NaN);
  let [lightest, darkest] = [-Infinity, Infinity];
  for (let y = 0; y < ch; y++) {
    const sy = top + y;
    if (sy < 0 || sy >= image.height) continue;
    for (let x = 0; x < cw; x++) {
      const sx = left + x;
      if (sx < 0 || sx >= image.width) continue;
      const i = (sy * image.width + sx) * 3;
      const g = 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
      grey[y * cw + x] = g;
      [lightest, darkest] = [Math.max(lightest, g), Math.min(darkest, g)];
    }
  }
  const out = new Uint8Array(cw * ch);
  if (lightest === -Infinity) return out;
  const range = Math.max(16, lightest - darkest);
  for (let i = 0; i < out.length; i++) out[i] = Number.isNaN(grey[i]) ? 0 : Math.round((255 * (lightest - grey[i])) / range);
  return out;
}

/**
 * A copy of packed `ZERO_O_CROP` windows, each mirrored left to right at its own place: training
 * data for `train --flip`. 0 and O are mirror-symmetric and lepture's rotation, warp and overlap
 * are drawn symmetrically (the arc only roughly), so a mirrored window is nearly another window of
 * the same character; not exactly: the shipped reader, trained without it, reads mirrored
 * validation windows worse (docs/pretrained.md, rule 4), and test-time mirroring is not used.
 * @param which mirror only the windows whose index passes (all by default)
 */
export function mirrorCrops(crops: Uint8Array, which: (index: number) => boolean = () => true): Uint8Array {
  const { width, height } = ZERO_O_CROP;
  const size = width * height;
  if (crops.length % size !== 0) throw new Error(`expected whole crops of ${width}x${height} (${size} bytes each), got ${crops.length} bytes`);
  const out = new Uint8Array(crops);
  for (let n = 0; n < crops.length / size; n++) {
    if (!which(n)) continue;
    for (let y = 0; y < height; y++) {
      const row = n * size + y * width;
      for (let x = 0; x < width; x++) out[row + x] = crops[row + width - 1 - x];
    }
  }
  return out;
}

/** Crops as the reader's input: float32 [n, 80, 56, 1] in 0-1. */
export function cropsToTensor(crops: Uint8Array, count: number): tf.Tensor4D {
  const { width, height } = ZERO_O_CROP;
  if (crops.length !== count * width * height) throw new Error(`expected ${count} crops of ${width}x${height}, got ${crops.length} bytes`);
  return tf.tidy(() => tf.tensor4d(crops, [count, height, width, 1], 'int32').toFloat().div(255) as tf.Tensor4D);
}

/**
 * The trunk the reader and the window expert share: four 3x3 conv + batch norm + ReLU + 2x2
 * max-pool stages and a dense layer of 96 over the window. Layers are named `prefix` + a number
 * when a prefix is given (the expert's, so that a model holding both tells them apart).
 */
function windowTrunk(crop: tf.SymbolicTensor, seed: number, prefix?: string): tf.SymbolicTensor {
  const named = (n: string) => (prefix === undefined ? {} : { name: `${prefix}${n}` });
  let x: tf.SymbolicTensor = crop;
  [24, 48, 96, 96].forEach((filters, i) => {
    x = tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({ seed: seed + i }), ...named(`conv${i}`) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization(named(`bn${i}`)).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU(named(`relu${i}`)).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, padding: 'same', ...named(`pool${i}`) }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten(named('flatten')).apply(x) as tf.SymbolicTensor;
  return tf.layers.dense({ units: 96, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 10 }), ...named('dense') }).apply(x) as tf.SymbolicTensor;
}

/** The reader's log(P(O) / P(0)): its correction from the window plus the CTC model's log-odds through one weight. */
function readerLogit(crop: tf.SymbolicTensor, prior: tf.SymbolicTensor, seed: number): tf.SymbolicTensor {
  // The correction starts at 0 (zero weights) and the prior's weight at 1: the CTC model's answer.
  const correction = tf.layers.dense({ units: 1, kernelInitializer: 'zeros', name: 'correction' }).apply(windowTrunk(crop, seed)) as tf.SymbolicTensor;
  const passed = tf.layers.dense({ units: 1, useBias: false, kernelInitializer: 'ones', name: 'prior_weight' }).apply(prior) as tf.SymbolicTensor;
  return tf.layers.add().apply([correction, passed]) as tf.SymbolicTensor;
}

const sigmoid = (logit: tf.SymbolicTensor) => tf.layers.activation({ activation: 'sigmoid' }).apply(logit) as tf.SymbolicTensor;
const readerInputs = () => {
  const { width, height } = ZERO_O_CROP;
  return { crop: tf.input({ shape: [height, width, 1], name: 'crop' }), prior: tf.input({ shape: [1], name: 'ctc_log_odds' }) };
};

/**
 * The reader: a small VGG-like CNN (`windowTrunk`) over the window, whose logit is added to the
 * CTC model's own log-odds for O (a second input, through one weight that starts at 1). It starts
 * out agreeing with the CTC model and learns only the correction the original pixels allow.
 * Output: P(O).
 */
export function createZeroOReader(seed = 1): tf.LayersModel {
  const { crop, prior } = readerInputs();
  return tf.model({ inputs: [crop, prior], outputs: sigmoid(readerLogit(crop, prior, seed)) });
}

/** Layer names of the window expert (`createWindowExpert`) start with this. */
const EXPERT_PREFIX = 'expert_';

/** The window expert's logit: its own trunk and one unit, every layer named with `EXPERT_PREFIX`. */
function expertLogit(crop: tf.SymbolicTensor, seed: number): tf.SymbolicTensor {
  // Seeded like the trunk, so that an expert trained from scratch is reproducible from its seed.
  const init = tf.initializers.glorotUniform({ seed: seed + 20 });
  return tf.layers.dense({ units: 1, kernelInitializer: init, name: `${EXPERT_PREFIX}logit` }).apply(windowTrunk(crop, seed, EXPERT_PREFIX)) as tf.SymbolicTensor;
}

/**
 * The window expert: the reader's trunk and one logit, over the window alone (no CTC model), so it
 * can learn from windows drawn fresh every step (`roundGlyphsInCaptchas`), millions of them,
 * without running the CTC model. Output: P(O). `withWindowExpert` puts it beside a reader.
 */
export function createWindowExpert(seed = 101): tf.LayersModel {
  const { crop } = readerInputs();
  return tf.model({ inputs: crop, outputs: sigmoid(expertLogit(crop, seed)) });
}

/**
 * One reader of a reader and a window expert: P(O) = sigmoid(reader's logit + `weight` x expert's
 * logit), a product of experts; `weight` is fitted on windows neither was trained on. The inputs
 * are the reader's, so it is saved, attached and read exactly as a reader is.
 */
export function withWindowExpert(reader: tf.LayersModel, expert: tf.LayersModel, weight: number): tf.LayersModel {
  if (!Number.isFinite(weight)) throw new Error(`the window expert's weight must be a finite number, got ${weight}`);
  const { crop, prior } = readerInputs();
  const scaled = tf.layers.dense({ units: 1, useBias: false, kernelInitializer: tf.initializers.constant({ value: weight }), name: `${EXPERT_PREFIX}weight` }).apply(expertLogit(crop, 0)) as tf.SymbolicTensor;
  const logit = tf.layers.add().apply([readerLogit(crop, prior, 0), scaled]) as tf.SymbolicTensor;
  const both = tf.model({ inputs: [crop, prior], outputs: sigmoid(logit) });
  // Each branch's layers come in the same order as in the model they are copied from (a chain
  // each); shapes are checked, and a test compares the outputs.
  const withWeights = (layers: tf.layers.Layer[]) => layers.filter((l) => l.getWeights().length > 0);
  const isExpert = (l: tf.layers.Layer) => l.name.startsWith(EXPERT_PREFIX) && l.name !== `${EXPERT_PREFIX}weight`;
  const copy = (from: tf.LayersModel, to: tf.layers.Layer[], what: string) => {
    const source = withWeights(from.layers);
    if (source.length !== to.length) throw new Error(`the ${what} has ${source.length} layers with weights, expected ${to.length}: is it a ${what}?`);
    source.forEach((layer, i) => {
      const weights = layer.getWeights();
      const shapes = (ws: tf.Tensor[]) => JSON.stringify(ws.map((w) => w.shape));
      if (shapes(weights) !== shapes(to[i].getWeights())) throw new Error(`the ${what}'s layer ${layer.name} has weights ${shapes(weights)}, expected ${shapes(to[i].getWeights())}`);
      to[i].setWeights(weights);
    });
  };
  copy(reader, withWeights(both.layers).filter((l) => !l.name.startsWith(EXPERT_PREFIX)), 'reader');
  copy(expert, withWeights(both.layers).filter(isExpert), 'window expert');
  return both;
}

/** A probability clipped off 0 and 1 (1e-7), as a logit: log(P / (1 - P)). */
export function logitOf(p: number): number {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
}

/** A round glyph (0 or O) found in a CTC model's reading. */
export interface RoundGlyphSite {
  /** Which text (image) of the batch. */
  index: number;
  /** Column of the original image at the glyph's centre. */
  x: number;
  /** Which character of the text. */
  position: number;
  /** The CTC model's log(P(O) / P(0)) at the glyph (see `roundGlyphFrame`). */
  logOdds: number;
}

/**
 * The round glyphs of each text, located in its original image: the lone one of each text with
 * exactly one 0 or O, and with `pairs` also both of a text with one 0 and one O (the first found
 * in the text is the leftmost). A text is left out when its glyphs cannot all be located.
 * @param probs softmax output of the batch, [B, steps, classes] row-major
 * @param sizes each image's size before it was fitted to `input`
 */
export function roundGlyphSites(
  texts: readonly string[],
  probs: Float32Array,
  steps: number,
  classes: number,
  alphabet: string,
  input: InputShape,
  sizes: ReadonlyArray<{ width: number; height: number }>,
  pairs = false,
): RoundGlyphSite[] {
  const sites: RoundGlyphSite[] = [];
  texts.forEach((text, i) => {
    const positions = [...text].flatMap((c, k) => ((ROUND_PAIR as readonly string[]).includes(c) ? [k] : []));
    // A pair is one 0 and one O ('00' or 'OO', read by a model without distinct characters, is not).
    const pair = pairs && positions.length === 2 && text[positions[0]] !== text[positions[1]];
    if (positions.length !== 1 && !pair) return;
    const found = roundGlyphFrames(probs.subarray(i * steps * classes, (i + 1) * steps * classes), steps, classes, alphabet, positions.length);
    found?.forEach((f, k) => sites.push({ index: i, x: frameToSourceX(f.frame, steps, input, sizes[i]), position: positions[k], logOdds: f.logOdds }));
  });
  return sites;
}

/**
 * The round glyphs of a batch's readings (`roundGlyphSites`) and the window around each
 * (`cropAround`, packed one `ZERO_O_CROP` after another): what the reader reads, at test time and
 * in its training crops (lone glyphs only).
 * @param logits the CTC model's output for the batch, [B, T, classes]
 */
export async function roundGlyphWindows(
  texts: readonly string[],
  logits: tf.Tensor3D,
  images: readonly RgbImage[],
  input: InputShape,
  alphabet: string,
  pairs = false,
): Promise<{ sites: RoundGlyphSite[]; crops: Uint8Array }> {
  if (images.length !== texts.length) throw new Error(`the second look needs the ${texts.length} original images of the batch, got ${images.length}`);
  const [, steps, classes] = logits.shape;
  const probsTensor = tf.softmax(logits);
  const probs = (await probsTensor.data()) as Float32Array;
  probsTensor.dispose();
  const sites = roundGlyphSites(texts, probs, steps, classes, alphabet, input, images, pairs);
  const size = ZERO_O_CROP.width * ZERO_O_CROP.height;
  const crops = new Uint8Array(sites.length * size);
  sites.forEach((s, j) => crops.set(cropAround(images[s.index], s.x), j * size));
  return { sites, crops };
}

/**
 * The texts with their round glyphs read again by the reader: a lone 0 or O is replaced by the
 * reader's answer; a text holding both a 0 and an O keeps one of each (its characters are
 * distinct) and the O goes to the glyph the reader finds rounder (the higher P(O)).
 * @param logits the CTC model's output for the batch, [B, T, classes], unshifted: the lean the
 *   reader was trained with (a calibration shifts only what the texts were decoded from)
 * @param images the batch's images before they were fitted to the model input
 * @param shifts where the windows are cut, px right of each glyph's located centre: the reader's
 *   logits of all of them are averaged (one window at the centre by default)
 */
export async function secondLookAtZeroO(
  texts: readonly string[],
  logits: tf.Tensor3D,
  images: readonly RgbImage[],
  input: InputShape,
  alphabet: string,
  reader: tf.LayersModel,
  shifts: readonly number[] = [0],
): Promise<string[]> {
  if (shifts.length === 0 || !shifts.every(Number.isInteger)) throw new Error(`the reader's window shifts must be one or more whole numbers of px, got [${shifts.join(', ')}]`);
  const { sites, crops: centred } = await roundGlyphWindows(texts, logits, images, input, alphabet, true);
  const n = sites.length;
  if (n === 0) return [...texts];
  const size = ZERO_O_CROP.width * ZERO_O_CROP.height;
  const crops = new Uint8Array(shifts.length * n * size);
  shifts.forEach((dx, k) =>
    sites.forEach((s, j) => crops.set(dx === 0 ? centred.subarray(j * size, (j + 1) * size) : cropAround(images[s.index], s.x + dx), (k * n + j) * size)),
  );
  const logOdds = shifts.flatMap(() => sites.map((s) => s.logOdds));
  const p = tf.tidy(() => reader.predict([cropsToTensor(crops, shifts.length * n), tf.tensor2d(logOdds, [shifts.length * n, 1])]) as tf.Tensor);
  const probs = await p.data();
  p.dispose();
  // The reader's log(P(O) / P(0)) for each glyph, averaged over the windows.
  const scores = sites.map((_, j) => shifts.reduce((sum, _dx, k) => sum + logitOf(probs[k * n + j]), 0) / shifts.length);
  // Of a pair, the O is the glyph the reader scores higher. Its probabilities saturate (both 1, or
  // both clipped), so a tie goes by the CTC model's lean, then to the left glyph.
  const rounder = (a: number, b: number): boolean =>
    scores[a] !== scores[b] ? scores[a] > scores[b] : sites[a].logOdds !== sites[b].logOdds ? sites[a].logOdds > sites[b].logOdds : a < b;
  const out = [...texts];
  const [zero, oh] = ROUND_PAIR;
  sites.forEach((s, j) => {
    const chars = [...out[s.index]];
    const other = sites.findIndex((t, k) => k !== j && t.index === s.index);
    const isO = other < 0 ? scores[j] > 0 : rounder(j, other);
    chars[s.position] = isO ? oh : zero;
    out[s.index] = chars.join('');
  });
  return out;
}
