/**
 * How separable are two characters at all, before any network of ours reads them? This draws one
 * character alone, exactly as the generator draws it inside a CAPTCHA (the version's font sizes,
 * rotation, perspective warp and resampling), but with no neighbours, no noise dots or arc, no
 * squeeze and black ink on white: the most a reader could ever see of it. A classifier trained on
 * such glyphs estimates how often the pair is confused even in the best case (see
 * scripts/glyph-separability.ts and docs/pretrained.md).
 *
 * `roundGlyphsInCaptchas` puts the glyph back into a CAPTCHA, with or without its neighbours,
 * noise and warp, and cuts the 0/O reader's window around it (at its true centre, from the
 * generator): a classifier trained on those windows shows which part of the CAPTCHA makes the
 * pair hard, not just unfamiliar to models trained on something else.
 */
import { CAPTCHA_VERSION_PROFILES, ImageCaptcha, createRng, deriveSeed, type CaptchaVersion, type DrawnGlyph, type GenerateImageOptions, type ImageCaptchaOptions, type Seed } from '../captcha';
import { pixelsToTensor } from '../data/tensors';
import { DEFAULT_ALPHABET } from '../models/charset';
import { ROUND_PAIR, ZERO_O_CROP, cropAround, textWithOneRoundGlyph } from './zero-o-reader';
import type * as tf from '@tensorflow/tfjs';

export interface IsolatedGlyphOptions {
  /** lepture release to draw like. */
  version: CaptchaVersion;
  /** The two characters to tell apart; label 0 is the first, 1 the second. */
  pair: readonly [string, string];
  /** Canvas, px: large enough for every font size of every version (0.2.2's 68 px glyph box is 42 x 74). */
  width?: number;
  height?: number;
  /** Rotation range, degrees (lepture's `character_rotate`). @default the version's, [-30, 30] */
  rotate?: readonly [number, number];
}

/**
 * Grey ink: lepture pastes a glyph through the luma of its own colour x 1.97, so black ink would
 * vanish; grey 130 is the darkest ink pasted at full strength.
 */
export const GLYPH_INK = [130, 130, 130, 255] as const;

export const ISOLATED_GLYPH_CANVAS = { width: 48, height: 80 } as const;

/** A batch of isolated glyphs: `count` packed RGB images and which of the pair each one is. */
export interface IsolatedGlyphBatch {
  width: number;
  height: number;
  rgb: Uint8Array;
  labels: Uint8Array;
}

/**
 * One generator per way of drawing, kept: a new one rasterises its glyphs again through
 * node-canvas, which keeps about 1 MB of each (a training loop drawing a batch per step ran out of
 * memory).
 */
const generators = new Map<string, ImageCaptcha>();

function isolatedGlyphGenerator(options: IsolatedGlyphOptions & { width: number; height: number }): ImageCaptcha {
  const key = JSON.stringify([options.version, options.pair, options.width, options.height, options.rotate ?? null]);
  let generator = generators.get(key);
  if (!generator) {
    generator = new ImageCaptcha({
      version: options.version,
      width: options.width,
      height: options.height,
      alphabet: options.pair.join(''),
      noiseDots: 0,
      noiseCurve: false,
      ...(options.rotate ? { characterRotate: options.rotate } : {}),
      // lepture draws a space when U > p: p = 1 never does (0.2.2 draws none and accepts only its default).
      ...(CAPTCHA_VERSION_PROFILES[options.version].wordSpaceProbability === null ? {} : { wordSpaceProbability: 1 }),
    });
    generators.set(key, generator);
  }
  return generator;
}

/**
 * `count` isolated glyphs, reproducible: glyph i is drawn from `deriveSeed(seed, first + i)`, the
 * character first (a fair coin), then lepture's draws for that one character.
 */
export function isolatedGlyphs(options: IsolatedGlyphOptions, seed: Seed, first: number, count: number): IsolatedGlyphBatch {
  const [a, b] = options.pair;
  if (typeof a !== 'string' || typeof b !== 'string' || [...a].length !== 1 || [...b].length !== 1 || a === b) {
    throw new Error(`pair must be two different characters, got ${JSON.stringify(options.pair)}; e.g. ['0', 'O']`);
  }
  if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a whole number >= 0, got ${count}`);
  const width = options.width ?? ISOLATED_GLYPH_CANVAS.width;
  const height = options.height ?? ISOLATED_GLYPH_CANVAS.height;
  const generator = isolatedGlyphGenerator({ ...options, width, height });
  const rgb = new Uint8Array(count * width * height * 3);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const rng = createRng(deriveSeed(seed, first + i));
    labels[i] = rng.randbelow(2);
    const image = generator.generateImage(labels[i] === 0 ? a : b, rng, { bgColor: [255, 255, 255], fgColor: GLYPH_INK });
    if (image.width !== width || image.height !== height) {
      throw new Error(`a glyph came out ${image.width}x${image.height}, not ${width}x${height}; give a larger canvas`);
    }
    rgb.set(image.data, i * width * height * 3);
  }
  return { width, height, rgb, labels };
}

/**
 * The batch as a [count, H, W, 1] grey tensor in 0-1, bilinearly scaled by `scale` first (as a
 * model's input resize would: e.g. 0.75 for an 80-px-high CAPTCHA read at 60 px).
 */
export function isolatedGlyphTensor(batch: IsolatedGlyphBatch, scale = 1): tf.Tensor4D {
  if (!(scale > 0 && scale <= 4)) throw new Error(`scale must be in (0, 4], got ${scale}`);
  const count = batch.labels.length;
  const target = { height: Math.round(batch.height * scale), width: Math.round(batch.width * scale), channels: 1, fit: 'stretch' as const };
  return pixelsToTensor(batch.rgb, count, batch.height, batch.width, target);
}

/** How a round glyph is drawn in its CAPTCHA (`roundGlyphsInCaptchas`). */
export interface RoundGlyphDrawing {
  /** lepture release to draw like. */
  version: CaptchaVersion;
  /** The CAPTCHA's size, px. */
  width: number;
  height: number;
  /** A text of the round glyph alone, instead of four distinct characters with exactly one 0 or O. */
  alone?: boolean;
  /** Generator options on top of the version's, e.g. `{ noiseDots: 0, noiseCurve: false }`. */
  options?: Partial<ImageCaptchaOptions>;
  /** Fixed colours instead of lepture's random ones, e.g. grey ink pasted whole on white (`GLYPH_INK`). */
  colors?: Pick<GenerateImageOptions, 'bgColor' | 'fgColor'>;
}

/** A batch of the 0/O reader's windows (`ZERO_O_CROP`, packed, ink high) and which glyph each holds: 0 for '0', 1 for 'O'. */
export interface RoundGlyphWindows {
  crops: Uint8Array;
  labels: Uint8Array;
}

/**
 * `count` CAPTCHAs drawn as `drawing` says, each holding one 0 or O, and the reader's window cut
 * around that glyph at the centre the generator reports (`onGlyph`); reproducible: CAPTCHA i is
 * drawn from `deriveSeed(seed, first + i)`, its text first, then lepture's draws.
 */
export function roundGlyphsInCaptchas(drawing: RoundGlyphDrawing, seed: Seed, first: number, count: number): RoundGlyphWindows {
  if (!Number.isInteger(count) || count < 0) throw new Error(`count must be a whole number >= 0, got ${count}`);
  const key = JSON.stringify(['in-captcha', drawing.version, drawing.width, drawing.height, drawing.options ?? {}]);
  let generator = generators.get(key);
  if (!generator) {
    generator = new ImageCaptcha({ ...drawing.options, version: drawing.version, width: drawing.width, height: drawing.height, alphabet: DEFAULT_ALPHABET });
    generators.set(key, generator);
  }
  const size = ZERO_O_CROP.width * ZERO_O_CROP.height;
  const crops = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const rng = createRng(deriveSeed(seed, first + i));
    const text = drawing.alone ? ROUND_PAIR[rng.randbelow(2)] : textWithOneRoundGlyph(rng, DEFAULT_ALPHABET);
    const drawn: DrawnGlyph[] = [];
    const image = generator.generateImage(text, rng, { ...drawing.colors, onGlyph: (g) => drawn.push(g) });
    const round = drawn.find((g) => (ROUND_PAIR as readonly string[]).includes(g.char))!;
    crops.set(cropAround(image, round.x), i * size);
    labels[i] = round.char === ROUND_PAIR[1] ? 1 : 0;
  }
  return { crops, labels };
}
