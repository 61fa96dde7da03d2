/**
 * Rendered glyph atlases kept on disk, so that the generator runs where node-canvas cannot: the
 * GPU machine has no node-canvas and no fonts, but the atlas (the only thing canvas draws for a
 * stream) can be rendered here and carried there. Opt-in: `CAPTCHA_LAB_GLYPH_CACHE=<folder>`.
 * With it, a generator whose atlas is in the folder reads it (no canvas, no font file); one that
 * is not renders it as usual and saves it there. Each file records the sha256 of its font files:
 * where a font file is present and differs (another version at the same path), the atlas is
 * rendered again; only where it is absent (the GPU machine) is the cache taken on trust.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { expandAlphabet, resolveImageCaptchaOptions, type GlyphAtlas, type GlyphBitmap, type ImageCaptchaOptions } from '../captcha';
import { writeFileAtomic } from '../files';

/** The environment variable naming the cache folder. */
export const GLYPH_CACHE_ENV = 'CAPTCHA_LAB_GLYPH_CACHE';

/** Bumped when the atlas a set of options renders changes (the renderer, not the options). */
const ATLAS_FORMAT = 1;

/** The file an atlas of these options is cached in: named by what decides its glyphs. */
export function glyphCacheFile(dir: string, captcha: ImageCaptchaOptions): string {
  const o = resolveImageCaptchaOptions(captcha);
  const fonts = o.fonts.map((f) => (typeof f === 'string' ? { path: f } : { path: f.path, ascender: f.ascender }));
  const chars = [...new Set(expandAlphabet(o.alphabet))].sort().join('');
  const key = JSON.stringify({ format: ATLAS_FORMAT, fonts, sizes: o.fontSizes, chars });
  return path.join(dir, `atlas-${crypto.createHash('sha256').update(key).digest('hex').slice(0, 16)}.json`);
}

/** A glyph as stored: its coverage bytes in base64. */
type StoredGlyph = Omit<GlyphBitmap, 'coverage'> & { coverage: string };

/** sha256 of each font file that exists here, by path. */
function fontDigests(atlas: { faces: ReadonlyArray<{ font: string }> }): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const font of new Set(atlas.faces.map((f) => f.font))) {
    if (fs.existsSync(font)) digests[font] = crypto.createHash('sha256').update(fs.readFileSync(font)).digest('hex');
  }
  return digests;
}

/**
 * The atlas cached for `captcha` in `dir`, or undefined when there is none or when a font file
 * present here differs from the one it was rendered from; a damaged file is named with the fix.
 */
export function readCachedAtlas(dir: string, captcha: ImageCaptchaOptions): GlyphAtlas | undefined {
  const file = glyphCacheFile(dir, captcha);
  if (!fs.existsSync(file)) return undefined;
  let stored: { fonts?: Record<string, string>; faces: Array<{ font: string; size: number; glyphs: Record<string, StoredGlyph> }> };
  try {
    stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!Array.isArray(stored?.faces)) throw new Error('no faces');
  } catch (err) {
    throw new Error(`glyph cache file '${file}' is damaged (${(err as Error).message}); delete it, and it is rendered again where node-canvas is installed`);
  }
  const here = fontDigests(stored);
  if (Object.entries(here).some(([font, digest]) => stored.fonts?.[font] !== digest)) return undefined;
  try {
    return {
      faces: stored.faces.map((face) => ({
        font: face.font,
        size: face.size,
        glyphs: Object.fromEntries(
          Object.entries(face.glyphs).map(([c, g]) => [c, { ...g, coverage: new Uint8Array(Buffer.from(g.coverage, 'base64')) }]),
        ),
      })),
    };
  } catch (err) {
    throw new Error(`glyph cache file '${file}' is damaged (${(err as Error).message}); delete it, and it is rendered again where node-canvas is installed`);
  }
}

/** Saves `atlas` as the cache of `captcha` in `dir` (atomically). */
export function writeCachedAtlas(dir: string, captcha: ImageCaptchaOptions, atlas: GlyphAtlas): string {
  const file = glyphCacheFile(dir, captcha);
  fs.mkdirSync(dir, { recursive: true });
  const faces = atlas.faces.map((face) => ({
    font: face.font,
    size: face.size,
    glyphs: Object.fromEntries(Object.entries(face.glyphs).map(([c, g]) => [c, { ...g, coverage: Buffer.from(g.coverage).toString('base64') }])),
  }));
  writeFileAtomic(file, JSON.stringify({ fonts: fontDigests(atlas), faces }));
  return file;
}
