/**
 * Just enough of a TrueType/OpenType reader to know which characters a font can draw and the
 * metrics Pillow builds character boxes from (unitsPerEm, hhea ascender, advance widths).
 * Canvas cannot tell: Pango silently substitutes another font for a missing glyph.
 */
import * as fs from 'fs';

export interface FontInfo {
  path: string;
  unitsPerEm: number;
  /** hhea ascender, font units */
  ascender: number;
  /** hhea descender, font units (negative) */
  descender: number;
  /** Glyph index of a character, 0 when the font has none (.notdef). */
  glyphIndex(char: string): number;
  /** Advance width of a character's glyph, font units. */
  advance(char: string): number;
}

function fail(path: string, why: string): never {
  throw new Error(`cannot read font '${path}': ${why}; pass a TrueType (.ttf) or OpenType (.otf) font file`);
}

export function readFontInfo(path: string): FontInfo {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `font file '${path}' does not exist; pass the path of a .ttf file (the default needs Debian's fonts-noto-mono)`
        : `cannot read font file '${path}': ${(err as Error).message}`,
    );
  }
  if (buf.length < 12) fail(path, 'file too short');
  let base = 0;
  if (buf.toString('latin1', 0, 4) === 'ttcf') base = buf.readUInt32BE(12); // first face of a collection
  const tag = buf.readUInt32BE(base);
  if (tag !== 0x00010000 && buf.toString('latin1', base, base + 4) !== 'OTTO' && buf.toString('latin1', base, base + 4) !== 'true') {
    fail(path, 'not a TrueType/OpenType font');
  }
  const numTables = buf.readUInt16BE(base + 4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = base + 12 + 16 * i;
    if (rec + 16 > buf.length) fail(path, 'truncated table directory');
    tables.set(buf.toString('latin1', rec, rec + 4), buf.readUInt32BE(rec + 8));
  }
  const need = (t: string): number => tables.get(t) ?? fail(path, `missing '${t}' table`);
  const head = need('head');
  const hhea = need('hhea');
  const hmtx = need('hmtx');
  const cmap = need('cmap');
  const unitsPerEm = buf.readUInt16BE(head + 18);
  const ascender = buf.readInt16BE(hhea + 4);
  const descender = buf.readInt16BE(hhea + 6);
  const numberOfHMetrics = buf.readUInt16BE(hhea + 34);

  // Prefer a full-Unicode (format 12) subtable, then a BMP (format 4) one.
  let sub4 = -1;
  let sub12 = -1;
  const nSub = buf.readUInt16BE(cmap + 2);
  for (let i = 0; i < nSub; i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = buf.readUInt16BE(rec);
    const encoding = buf.readUInt16BE(rec + 2);
    const off = cmap + buf.readUInt32BE(rec + 4);
    const format = buf.readUInt16BE(off);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    if (format === 12 && sub12 < 0) sub12 = off;
    if (format === 4 && sub4 < 0) sub4 = off;
  }
  if (sub12 < 0 && sub4 < 0) fail(path, 'no Unicode character map');

  const lookup = (cp: number): number => {
    if (sub12 >= 0) {
      const nGroups = buf.readUInt32BE(sub12 + 12);
      let lo = 0;
      let hi = nGroups - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const g = sub12 + 16 + 12 * mid;
        const start = buf.readUInt32BE(g);
        const end = buf.readUInt32BE(g + 4);
        if (cp < start) hi = mid - 1;
        else if (cp > end) lo = mid + 1;
        else return buf.readUInt32BE(g + 8) + (cp - start);
      }
      return 0;
    }
    if (cp > 0xffff) return 0;
    const segX2 = buf.readUInt16BE(sub4 + 6);
    const ends = sub4 + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const ranges = deltas + segX2;
    for (let i = 0; i < segX2; i += 2) {
      if (cp > buf.readUInt16BE(ends + i)) continue;
      const start = buf.readUInt16BE(starts + i);
      if (cp < start) return 0;
      const delta = buf.readInt16BE(deltas + i);
      const ro = buf.readUInt16BE(ranges + i);
      if (ro === 0) return (cp + delta) & 0xffff;
      const gi = buf.readUInt16BE(ranges + i + ro + 2 * (cp - start));
      return gi === 0 ? 0 : (gi + delta) & 0xffff;
    }
    return 0;
  };

  const glyphIndex = (char: string): number => lookup(char.codePointAt(0)!);
  const advance = (char: string): number => {
    const g = glyphIndex(char);
    const i = Math.min(g, numberOfHMetrics - 1);
    return buf.readUInt16BE(hmtx + 4 * i);
  };
  return { path, unitsPerEm, ascender, descender, glyphIndex, advance };
}
