/**
 * What datasets and streams share: the recipe for item `index` of a seeded run, and the plain
 * (structured-clonable) settings a worker thread needs to follow it.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  createRng,
  encode,
  type ImageFormat,
  deriveSeed,
  drawText,
  ImageCaptcha,
  lengthRange,
  resolveTextOptions,
  type GlyphAtlas,
  type ImageCaptchaOptions,
  type RandomTextOptions,
  type ResolvedImageCaptchaOptions,
  type RgbImage,
  type Seed,
} from '../captcha';
import { writeFileAtomic } from '../files';
import { GLYPH_CACHE_ENV, readCachedAtlas, writeCachedAtlas } from './glyph-cache';

/** Bumped whenever the same options would give different pixels. Recorded in manifests. */
export const GENERATOR_VERSION = 1;

/** Settings of a run, with defaults filled in and the glyphs rendered. */
export interface GeneratorSpec {
  seed: Seed;
  captcha: ResolvedImageCaptchaOptions;
  text: { length: [number, number]; alphabet: string; unique: boolean };
  atlas: GlyphAtlas;
}

/**
 * Checks captcha and text options together and renders the glyphs once (main thread). The
 * captcha's alphabet defaults to the text's, so one `alphabet` setting is enough.
 */
export function createGeneratorSpec(seed: Seed, captcha: ImageCaptchaOptions = {}, text: RandomTextOptions = {}): GeneratorSpec {
  createRng(seed); // validates the seed
  const t = resolveTextOptions(text);
  const options = { ...captcha, alphabet: captcha.alphabet ?? t.alphabet };
  // With CAPTCHA_LAB_GLYPH_CACHE, a cached atlas spares node-canvas and the font files (GPU machines).
  // (An atlas the caller gives wins; the cache is neither read nor written then.)
  const cacheDir = captcha.glyphAtlas ? undefined : process.env[GLYPH_CACHE_ENV];
  const cached = cacheDir ? readCachedAtlas(cacheDir, options) : undefined;
  const generator = new ImageCaptcha({ ...options, glyphAtlas: captcha.glyphAtlas ?? cached });
  for (const c of t.chars) {
    if (!generator.alphabet.includes(c)) {
      throw new Error(`text alphabet '${t.alphabet}' has '${c}', which the captcha alphabet '${generator.options.alphabet}' lacks`);
    }
  }
  const atlas = generator.glyphAtlas();
  checkInk(atlas, t.chars);
  if (cacheDir && !cached) writeCachedAtlas(cacheDir, options, atlas);
  return {
    seed,
    captcha: generator.options,
    text: { length: lengthRange(t.length), alphabet: t.alphabet, unique: t.unique },
    atlas,
  };
}

/**
 * Refuses characters a font has but draws blank (fillers such as U+3164, a blank braille cell):
 * their images would hold fewer visible characters than their labels.
 */
function checkInk(atlas: GlyphAtlas, chars: readonly string[]): void {
  for (const face of atlas.faces) {
    for (const c of chars) {
      if (!face.glyphs[c].coverage.some((v) => v > 0)) {
        const cp = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
        throw new Error(
          `font '${face.font}' draws nothing for '${c}' (U+${cp}) at ${face.size} px; ` +
            'remove it from the alphabet or pass a font that draws it (--font)',
        );
      }
    }
  }
}

/** A generator that draws items of a spec; works without fonts (in workers). */
export class ItemGenerator {
  private readonly captcha: ImageCaptcha;
  private readonly chars: string[];

  constructor(readonly spec: GeneratorSpec) {
    this.captcha = new ImageCaptcha({ ...spec.captcha, glyphAtlas: spec.atlas });
    this.chars = Array.from(spec.text.alphabet);
  }

  /** Item `index`: its text, then its image, both from `createRng(deriveSeed(seed, index))`. */
  item(index: number): { text: string; image: RgbImage } {
    const rng = createRng(deriveSeed(this.spec.seed, index));
    const text = drawText(rng, this.spec.text.length, this.spec.text.unique, this.chars);
    return { text, image: this.captcha.generateImage(text, rng) };
  }

  /** Only the text of item `index` (it is drawn first, so no image is needed). */
  text(index: number): string {
    const rng = createRng(deriveSeed(this.spec.seed, index));
    return drawText(rng, this.spec.text.length, this.spec.text.unique, this.chars);
  }
}

/** Batch of a mixed stream: which of the stream's specs (one per version) draws it, at which size. */
export interface BatchVariant {
  spec: number;
  width: number;
  height: number;
}

/**
 * The generator of a batch: `base` for a plain stream, else the variant's spec at the variant's
 * size, made once and kept in `cache` (a spec's glyphs do not depend on the image size).
 */
export function variantGenerator(cache: Map<string, ItemGenerator>, base: GeneratorSpec, specs: readonly GeneratorSpec[], variant: BatchVariant | undefined): ItemGenerator {
  const key = variant ? `${variant.spec}:${variant.width}x${variant.height}` : 'base';
  let gen = cache.get(key);
  if (!gen) {
    const spec = variant ? specs[variant.spec] : base;
    if (!spec) throw new Error(`batch variant names spec ${variant?.spec}, but the stream has ${specs.length}`);
    gen = new ItemGenerator(variant ? { ...spec, captcha: { ...spec.captcha, width: variant.width, height: variant.height } } : spec);
    cache.set(key, gen);
  }
  return gen;
}

/**
 * Path of a compiled worker script, the generator's by default; workers always run the JS emitted
 * to dist/, so a missing file means the project was not built.
 */
export function workerScript(file = path.join(__dirname, 'generator-worker.js')): string {
  if (!fs.existsSync(file)) {
    throw new Error(`worker script '${file}' not found; build the project (npx tsc -p tsconfig.json) and run from dist/`);
  }
  return file;
}

/** Generates batch images `start .. start+size-1` into one `[size, H, W, 3]` buffer. */
export function generateBatch(gen: ItemGenerator, start: number, size: number): { pixels: Uint8Array; texts: string[] } {
  const { width, height } = gen.spec.captcha;
  const n = width * height * 3;
  const pixels = new Uint8Array(size * n);
  const texts: string[] = [];
  for (let i = 0; i < size; i++) {
    const { text, image } = gen.item(start + i);
    pixels.set(image.data, i * n);
    texts.push(text);
  }
  return { pixels, texts };
}

/** Generates, encodes and atomically writes dataset image `index`. */
export function writeItem(gen: ItemGenerator, index: number, out: string, format: ImageFormat, quality: number): void {
  const { image } = gen.item(index);
  writeFileAtomic(path.join(out, `${index}.${format}`), encode(image, format, { quality }));
}
