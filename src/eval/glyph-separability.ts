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
import { CAPTCHA_VERSION_PROFILES, ImageCaptcha, createRng, deriveSeed, type CaptchaVersion, type DrawnGlyph, type GenerateImageOptions, type GlyphAtlas, type GlyphBitmap, type ImageCaptchaOptions, type RgbImage, type Seed } from '../captcha';
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

/** One glyph atlas per version, fonts and font sizes: the generators of every CAPTCHA size share it. */
const atlases = new Map<string, GlyphAtlas>();

function sharedAtlas(version: CaptchaVersion, options: Partial<ImageCaptchaOptions>): GlyphAtlas {
  const key = JSON.stringify([version, options.fonts ?? null, options.fontSizes ?? null]);
  let atlas = atlases.get(key);
  if (!atlas) {
    atlas = new ImageCaptcha({ version, ...(options.fonts ? { fonts: options.fonts } : {}), ...(options.fontSizes ? { fontSizes: options.fontSizes } : {}) }).glyphAtlas();
    atlases.set(key, atlas);
  }
  return atlas;
}

/** The generator kept under `key`, made by `make` the first time. */
function cachedGenerator(key: readonly unknown[], make: () => ImageCaptcha): ImageCaptcha {
  const id = JSON.stringify(key);
  let generator = generators.get(id);
  if (!generator) {
    generator = make();
    generators.set(id, generator);
  }
  return generator;
}

/** One glyph on a plain canvas: no dots, no arc, and no space before it. */
function oneGlyphOptions(version: CaptchaVersion): Partial<ImageCaptchaOptions> {
  return {
    version,
    noiseDots: 0,
    noiseCurve: false,
    // lepture draws a space when U > p: p = 1 never does (0.2.2 draws none and accepts only its default).
    ...(CAPTCHA_VERSION_PROFILES[version].wordSpaceProbability === null ? {} : { wordSpaceProbability: 1 }),
  };
}

function isolatedGlyphGenerator(options: IsolatedGlyphOptions & { width: number; height: number }): ImageCaptcha {
  return cachedGenerator(['isolated', options.version, options.pair, options.width, options.height, options.rotate ?? null], () =>
    new ImageCaptcha({
      ...oneGlyphOptions(options.version),
      width: options.width,
      height: options.height,
      alphabet: options.pair.join(''),
      ...(options.rotate ? { characterRotate: options.rotate } : {}),
    }),
  );
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
  /**
   * Cut the window up to this many px either side of the glyph's true centre (uniform, whole px,
   * drawn after the CAPTCHA, so the drawing is the same): the CTC model locates it within 1-2 px
   * at test time. @default 0
   */
  jitter?: number;
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
  if (drawing.jitter !== undefined && !(Number.isInteger(drawing.jitter) && drawing.jitter >= 0)) throw new Error(`jitter must be a whole number of px >= 0, got ${drawing.jitter}`);
  const generator = cachedGenerator(['in-captcha', drawing.version, drawing.width, drawing.height, drawing.options ?? {}], () => {
    const options = { ...drawing.options, version: drawing.version, width: drawing.width, height: drawing.height, alphabet: DEFAULT_ALPHABET };
    return new ImageCaptcha({ ...options, glyphAtlas: drawing.options?.glyphAtlas ?? sharedAtlas(drawing.version, options) });
  });
  const size = ZERO_O_CROP.width * ZERO_O_CROP.height;
  const crops = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const rng = createRng(deriveSeed(seed, first + i));
    const text = drawing.alone ? ROUND_PAIR[rng.randbelow(2)] : textWithOneRoundGlyph(rng, DEFAULT_ALPHABET);
    const drawn: DrawnGlyph[] = [];
    const image = generator.generateImage(text, rng, { ...drawing.colors, onGlyph: (g) => drawn.push(g) });
    const round = drawn.find((g) => (ROUND_PAIR as readonly string[]).includes(g.char))!;
    const shift = drawing.jitter ? rng.randbelow(2 * drawing.jitter + 1) - drawing.jitter : 0;
    crops.set(cropAround(image, round.x + shift), i * size);
    labels[i] = round.char === ROUND_PAIR[1] ? 1 : 0;
  }
  return { crops, labels };
}

/** Width and height of the ink (pixels darker than 200) of a grey-on-white image; 0 x 0 for none. */
export function inkSize(image: RgbImage): { width: number; height: number } {
  let [x0, x1, y0, y1] = [Infinity, -1, Infinity, -1];
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (image.data[(y * image.width + x) * 3] < 200) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    }
  }
  return x1 < 0 ? { width: 0, height: 0 } : { width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** The canvas `drawGlyphAlone` draws on: room for 0.2.2's largest character box (41 x 73). */
const ALONE_CANVAS = { width: 64, height: 90 } as const;

/** The generator `drawGlyphAlone` draws with, one per way of drawing. */
function aloneGenerator(version: CaptchaVersion, fontSize: number, upright: boolean): ImageCaptcha {
  return cachedGenerator(['alone', version, fontSize, upright], () => {
    const still = [0, 0] as [number, number];
    const options: Partial<ImageCaptchaOptions> = {
      ...oneGlyphOptions(version),
      ...ALONE_CANVAS,
      fontSizes: [fontSize],
      ...(upright ? { characterRotate: still, characterWarpDx: still, characterWarpDy: still } : {}),
    };
    return new ImageCaptcha({ ...options, glyphAtlas: sharedAtlas(version, options) });
  });
}

/**
 * One character as lepture draws it (grey ink pasted whole on white, no noise), alone at one font
 * size, from `seed`: with the version's rotation and warp, or `upright` without either; and its
 * draws (`DrawnGlyph`: its character box, rotation, ...).
 */
export function drawGlyphAlone(version: CaptchaVersion, fontSize: number, char: string, seed: Seed, upright = false): { image: RgbImage; glyph: DrawnGlyph } {
  const drawn: DrawnGlyph[] = [];
  const image = aloneGenerator(version, fontSize, upright).generateImage(char, createRng(seed), { bgColor: [255, 255, 255], fgColor: GLYPH_INK, onGlyph: (g) => drawn.push(g) });
  const glyph = drawn.find((g) => g.char === char)!;
  // A larger glyph would be squeezed into the canvas or cut by it, silently.
  if (glyph.width > ALONE_CANVAS.width || glyph.height > ALONE_CANVAS.height) {
    throw new Error(`a ${fontSize}-px '${char}' has a ${glyph.width} x ${glyph.height} box, larger than the ${ALONE_CANVAS.width} x ${ALONE_CANVAS.height} canvas; pick a font size of at most about 70 px`);
  }
  return { image, glyph };
}

/** A glyph as the font draws it (`font`) or as lepture draws it upright (`lepture`), and its ink's size. */
export interface RoundGlyphLook {
  char: string;
  look: 'font' | 'lepture';
  image: RgbImage;
  ink: { width: number; height: number };
}

/**
 * 0 and O as DroidSansMono draws them and as lepture draws them upright without the warp, at one
 * of the version's font sizes (default its largest): lepture crops each glyph to its ink and
 * resizes it to the font's character box, the same for every character of a monospaced font, so
 * the font's wider O and narrower 0 come out the same size (docs/pretrained.md).
 */
export function roundGlyphLooks(version: CaptchaVersion, fontSize?: number): RoundGlyphLook[] {
  const sizes = CAPTCHA_VERSION_PROFILES[version].fontSizes;
  const size = fontSize ?? sizes[sizes.length - 1];
  const drawn = ROUND_PAIR.map((char) => drawGlyphAlone(version, size, char, 1, true).image);
  const face = aloneGenerator(version, size, true).glyphAtlas().faces[0];
  const font = ROUND_PAIR.map((char) => fontGlyphImage(face.glyphs[char], ALONE_CANVAS.width, ALONE_CANVAS.height));
  return [
    ...ROUND_PAIR.map((char, i) => ({ char, look: 'font' as const, image: font[i], ink: inkSize(font[i]) })),
    ...ROUND_PAIR.map((char, i) => ({ char, look: 'lepture' as const, image: drawn[i], ink: inkSize(drawn[i]) })),
  ];
}

/** A font's glyph bitmap, centred, in `GLYPH_INK` on white. */
function fontGlyphImage(glyph: GlyphBitmap, width: number, height: number): RgbImage {
  if (glyph.width > width || glyph.height > height) throw new Error(`a ${glyph.width} x ${glyph.height} glyph does not fit a ${width} x ${height} canvas`);
  const data = new Uint8Array(width * height * 3).fill(255);
  const [ox, oy] = [Math.floor((width - glyph.width) / 2), Math.floor((height - glyph.height) / 2)];
  for (let y = 0; y < glyph.height; y++) {
    for (let x = 0; x < glyph.width; x++) {
      const grey = Math.round(255 - ((255 - GLYPH_INK[0]) * glyph.coverage[y * glyph.width + x]) / 255);
      const at = ((oy + y) * width + ox + x) * 3;
      data.fill(grey, at, at + 3);
    }
  }
  return { width, height, data };
}
