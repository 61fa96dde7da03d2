/**
 * Why lepture's 0 and O are hard to tell apart: in DroidSansMono the O is wider than the 0, but
 * lepture crops each glyph to its ink and resizes that to the font's character box, which is the
 * same for every character of a monospaced font (docs/generator.md, `_draw_character`). So an
 * upright 0 and O come out the same width and height, and only the shape of their strokes differs.
 * This measures it for every version and font size, and draws the figure for the docs.
 *
 *   node dist/scripts/zero-o-shapes.js [--count 400] [--out docs/zero-o-shapes.png]
 *
 * Prints a Markdown table: the font's own ink width/height of 0 and O, the character box, and the
 * ink of the glyphs as lepture draws them (no noise, grey on white): upright without the warp,
 * and with the version's rotation and warp (the mean ratio over `--count` draws each).
 */
import { parseArgs } from 'util';
import { CAPTCHA_VERSIONS, CAPTCHA_VERSION_PROFILES, ImageCaptcha, createRng, encode, type CaptchaVersion, type GlyphBitmap, type RgbImage } from '../src/captcha';
import { parseIntArg } from '../src/cli/common';
import { writeFileAtomic } from '../src/files';

const GREY_ON_WHITE = { bgColor: [255, 255, 255] as const, fgColor: [130, 130, 130, 255] as const };
const CANVAS = { width: 64, height: 90 };

/** Width and height of the pixels darker than 200 (ink), or null for none. */
function inkSize(image: RgbImage): { width: number; height: number } | null {
  let [x0, x1, y0, y1] = [Infinity, -1, Infinity, -1];
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if (image.data[(y * image.width + x) * 3] < 200) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    }
  }
  return x1 < 0 ? null : { width: x1 - x0 + 1, height: y1 - y0 + 1 };
}

/** One generator per way of drawing: each new one rasterises its glyphs through node-canvas, which keeps their memory. */
const generators = new Map<string, ImageCaptcha>();

/** One glyph as lepture draws it alone on a plain canvas (no noise), from `seed`. */
function drawAlone(version: CaptchaVersion, fontSize: number, char: string, seed: number, upright: boolean): RgbImage {
  const key = `${version}|${fontSize}|${upright}`;
  const generator = generators.get(key) ?? new ImageCaptcha({
    version,
    ...CANVAS,
    fontSizes: [fontSize],
    noiseDots: 0,
    noiseCurve: false,
    // No space before the glyph (lepture draws one when U > p); 0.2.2 draws none.
    ...(CAPTCHA_VERSION_PROFILES[version].wordSpaceProbability === null ? {} : { wordSpaceProbability: 1 }),
    ...(upright ? { characterRotate: [0, 0] as [number, number], characterWarpDx: [0, 0] as [number, number], characterWarpDy: [0, 0] as [number, number] } : {}),
  });
  generators.set(key, generator);
  return generator.generateImage(char, createRng(seed), GREY_ON_WHITE);
}

/** The font's own glyph, grey on white, on a `width` x `height` canvas. */
function fontGlyph(glyph: GlyphBitmap, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3).fill(255);
  const [ox, oy] = [Math.floor((width - glyph.width) / 2), Math.floor((height - glyph.height) / 2)];
  for (let y = 0; y < glyph.height; y++) {
    for (let x = 0; x < glyph.width; x++) {
      const v = Math.round(255 - ((255 - 130) * glyph.coverage[y * glyph.width + x]) / 255);
      data.fill(v, ((oy + y) * width + ox + x) * 3, ((oy + y) * width + ox + x) * 3 + 3);
    }
  }
  return { width, height, data };
}

/** Images side by side, each scaled up `zoom` times (nearest), on white, `gap` px apart. */
function strip(images: RgbImage[], zoom: number, gap: number): RgbImage {
  const height = Math.max(...images.map((im) => im.height)) * zoom;
  const width = images.reduce((sum, im) => sum + im.width * zoom + gap, gap);
  const data = new Uint8Array(width * height * 3).fill(255);
  let left = gap;
  for (const im of images) {
    for (let y = 0; y < im.height * zoom; y++) {
      for (let x = 0; x < im.width * zoom; x++) {
        const s = (Math.floor(y / zoom) * im.width + Math.floor(x / zoom)) * 3;
        data.set(im.data.subarray(s, s + 3), (y * width + left + x) * 3);
      }
    }
    left += im.width * zoom + gap;
  }
  return { width, height, data };
}

function main(argv: string[]): void {
  const { values } = parseArgs({ args: argv, options: { count: { type: 'string', default: '400' }, out: { type: 'string' } } });
  const count = parseIntArg('--count', 1)(values.count!);
  const ratio = (s: { width: number; height: number } | null) => (s ? s.width / s.height : NaN);
  console.log('| version | font size | font ink 0 / O (w x h) | character box | drawn upright, no warp: 0 / O | as drawn (rotation and warp), mean w/h: 0 / O |');
  console.log('|---|---|---|---|---|---|');
  const rows: RgbImage[] = [];
  for (const version of CAPTCHA_VERSIONS) {
    const { fontSizes } = CAPTCHA_VERSION_PROFILES[version];
    const atlas = new ImageCaptcha({ version }).glyphAtlas();
    for (const [f, fontSize] of fontSizes.entries()) {
      const [zero, oh] = [atlas.faces[f].glyphs['0'], atlas.faces[f].glyphs['O']];
      const upright = ['0', 'O'].map((c) => inkSize(drawAlone(version, fontSize, c, 1, true)));
      const meanRatio = (c: string) => {
        let sum = 0;
        for (let seed = 0; seed < count; seed++) sum += ratio(inkSize(drawAlone(version, fontSize, c, seed, false)));
        return sum / count;
      };
      const size = (s: { width: number; height: number } | null) => (s ? `${s.width} x ${s.height}` : '-');
      console.log(
        `| ${version} | ${fontSize} | ${zero.width} x ${zero.height} / ${oh.width} x ${oh.height} (${(zero.width / zero.height).toFixed(2)} / ${(oh.width / oh.height).toFixed(2)}) | ` +
          `${zero.boxWidth} x ${zero.boxHeight} | ${size(upright[0])} / ${size(upright[1])} | ${meanRatio('0').toFixed(3)} / ${meanRatio('O').toFixed(3)} |`,
      );
      if (fontSize === fontSizes[fontSizes.length - 1] && (version === '0.7.1' || version === '0.2.2')) {
        const font = [zero, oh].map((g) => fontGlyph(g, CANVAS.width, CANVAS.height));
        const drawn = ['0', 'O'].map((c) => drawAlone(version, fontSize, c, 1, true));
        rows.push(strip([...font, ...drawn], 3, 12));
      }
    }
  }
  if (values.out) {
    const width = Math.max(...rows.map((r) => r.width));
    const height = rows.reduce((sum, r) => sum + r.height, 0);
    const data = new Uint8Array(width * height * 3).fill(255);
    let top = 0;
    for (const r of rows) {
      for (let y = 0; y < r.height; y++) data.set(r.data.subarray(y * r.width * 3, (y + 1) * r.width * 3), ((top + y) * width) * 3);
      top += r.height;
    }
    writeFileAtomic(values.out, encode({ width, height, data }, 'png'));
    console.log(`wrote ${values.out}: per row (0.7.1 at 56 px, 0.2.2 at 68 px), the font's 0 and O, then lepture's upright 0 and O without the warp`);
  }
}

main(process.argv.slice(2));
