/**
 * Glyph coverage and character boxes, rendered once per (font, size, character) with node-canvas
 * and cached in a plain, structured-clonable {@link GlyphAtlas} that worker threads receive
 * instead of touching fonts themselves.
 *
 * Only two things of a glyph reach the image (spec §2.3): its tight ink coverage (the crop to the
 * alpha bounding box removes the position) and its character box `(w, h)`, the size the warped
 * glyph is stretched to. Pillow's box is `w = max(advance, ink right) + 1` and
 * `h = max(ascender, ink bottom) + 1`, measured from the pen position at the ascender line, with
 * FreeType's hinted pixel ascender `ceil(size * ascender / unitsPerEm)`.
 */
import { loadCanvas } from './canvas';
import { alphaBBox } from './raster';
import { readFontInfo, type FontInfo } from './truetype';

/** A font file, optionally with the vertical metric Pillow's boxes depend on overridden. */
export interface FontSpec {
  /** Path of a .ttf/.otf file. */
  path: string;
  /** hhea ascender in font units; set to borrow another font's boxes (see {@link DEFAULT_FONT}). */
  ascender?: number;
}

/**
 * lepture's DroidSansMono, as Debian ships it: NotoMono-Regular has the same outlines and
 * advances for 0-9A-Z, and with DroidSansMono's ascender (2163/2048 instead of 1900/2048) it gets
 * the same character boxes, so glyphs are stretched and placed as the real library does.
 */
export const DEFAULT_FONT: Readonly<FontSpec> = Object.freeze({
  path: '/usr/share/fonts/truetype/noto/NotoMono-Regular.ttf',
  ascender: 2163,
});

/** One character at one size. */
export interface GlyphBitmap {
  /** Character box width: `multiline_textbbox((1, 1), c)[2]` in Pillow. */
  boxWidth: number;
  /** Character box height. */
  boxHeight: number;
  /** Ink rectangle, relative to the pen position on the ascender line (Pillow's anchor 'la'). */
  left: number;
  top: number;
  width: number;
  height: number;
  /** Antialiased coverage 0-255 of the ink rectangle, row-major, `width * height` bytes. */
  coverage: Uint8Array;
}

/** The glyphs of one font at one size. */
export interface GlyphFace {
  font: string;
  size: number;
  glyphs: Record<string, GlyphBitmap>;
}

/** Every face the generator chooses from, fonts outer and sizes inner (lepture's `truefonts`). */
export interface GlyphAtlas {
  faces: GlyphFace[];
}

const families = new Map<string, string>();

function familyFor(fontPath: string): string {
  let family = families.get(fontPath);
  if (!family) {
    family = `captcha-lab-font-${families.size}`;
    loadCanvas().registerFont(fontPath, { family });
    families.set(fontPath, family);
  }
  return family;
}

/** Renders one glyph and measures its Pillow box. */
export function rasterizeGlyph(font: FontSpec, info: FontInfo, size: number, char: string): GlyphBitmap {
  const { createCanvas } = loadCanvas();
  const upm = info.unitsPerEm;
  const ascPx = Math.ceil((size * (font.ascender ?? info.ascender)) / upm);
  const advPx = Math.round((size * info.advance(char)) / upm);
  const pad = Math.ceil(size);
  const cw = advPx + 2 * pad;
  const ch = ascPx + 3 * pad;
  const canvas = createCanvas(cw, ch);
  const ctx = canvas.getContext('2d');
  ctx.font = `${size}px "${familyFor(font.path)}"`;
  // 'glyph' mode lets FreeType rasterise the hinted glyph, as Pillow does; the default 'path'
  // mode fills the outline with Cairo's own rasteriser (coverage off by up to 19/255).
  ctx.textDrawingMode = 'glyph';
  ctx.antialias = 'gray';
  ctx.fillStyle = '#ffffff';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(char, pad, pad + ascPx);
  const rgba = ctx.getImageData(0, 0, cw, ch).data;
  const bbox = alphaBBox({ width: cw, height: ch, data: new Uint8Array(rgba.buffer, rgba.byteOffset, rgba.length) });
  if (!bbox) {
    return { boxWidth: advPx + 1, boxHeight: ascPx + 1, left: 0, top: 0, width: 0, height: 0, coverage: new Uint8Array(0) };
  }
  const [x0, y0, x1, y1] = bbox;
  const width = x1 - x0;
  const height = y1 - y0;
  const coverage = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) coverage[y * width + x] = rgba[((y0 + y) * cw + x0 + x) * 4 + 3];
  }
  const left = x0 - pad;
  const top = y0 - pad;
  return {
    boxWidth: Math.max(advPx, left + width) + 1,
    boxHeight: Math.max(ascPx, top + height) + 1,
    left,
    top,
    width,
    height,
    coverage,
  };
}

/** A font file resolved to a spec and its parsed tables. */
export interface LoadedFont {
  spec: FontSpec;
  info: FontInfo;
}

export function loadFont(font: string | FontSpec): LoadedFont {
  const spec = typeof font === 'string' ? { path: font } : font;
  return { spec, info: readFontInfo(spec.path) };
}

/** Renders `chars` (plus the space lepture inserts) for every font x size. */
export function buildGlyphAtlas(fonts: readonly LoadedFont[], sizes: readonly number[], chars: Iterable<string>): GlyphAtlas {
  const all = [' ', ...new Set(chars)];
  const faces: GlyphFace[] = [];
  for (const f of fonts) {
    for (const size of sizes) {
      const glyphs: Record<string, GlyphBitmap> = {};
      for (const c of all) glyphs[c] = rasterizeGlyph(f.spec, f.info, size, c);
      faces.push({ font: f.spec.path, size, glyphs });
    }
  }
  return { faces };
}
