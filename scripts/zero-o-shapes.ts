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
import { CAPTCHA_VERSIONS, CAPTCHA_VERSION_PROFILES, ImageCaptcha, type CaptchaVersion } from '../src/captcha';
import { parseIntArg } from '../src/cli/common';
import { drawGlyphAlone, inkSize, roundGlyphLooks } from '../src/eval/glyph-separability';
import { writeFileAtomic } from '../src/files';
import { renderGrid, roundGlyphLookItems } from '../src/viz';

/** The versions drawn in the figure, at their largest font size: one per look of the font sizes. */
const FIGURE_VERSIONS: CaptchaVersion[] = ['0.7.1', '0.2.2'];

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { count: { type: 'string', default: '400' }, out: { type: 'string' } } });
  const count = parseIntArg('--count', 1)(values.count!);
  console.log('| version | font size | font ink 0 / O (w x h) | character box (lepture draws into) | drawn upright, no warp: 0 / O | as drawn (rotation and warp), mean w/h: 0 / O |');
  console.log('|---|---|---|---|---|---|');
  for (const version of CAPTCHA_VERSIONS) {
    const atlas = new ImageCaptcha({ version }).glyphAtlas();
    for (const [f, fontSize] of CAPTCHA_VERSION_PROFILES[version].fontSizes.entries()) {
      const [zero, oh] = [atlas.faces[f].glyphs['0'], atlas.faces[f].glyphs['O']];
      const upright = ['0', 'O'].map((c) => drawGlyphAlone(version, fontSize, c, 1, true));
      const meanRatio = (c: string) => {
        let sum = 0;
        for (let seed = 0; seed < count; seed++) {
          const ink = inkSize(drawGlyphAlone(version, fontSize, c, seed).image);
          sum += ink.width / ink.height;
        }
        return sum / count;
      };
      const size = (s: { width: number; height: number }) => `${s.width} x ${s.height}`;
      console.log(
        `| ${version} | ${fontSize} | ${zero.width} x ${zero.height} / ${oh.width} x ${oh.height} (${(zero.width / zero.height).toFixed(2)} / ${(oh.width / oh.height).toFixed(2)}) | ` +
          `${size(upright[0].glyph)} | ${size(inkSize(upright[0].image))} / ${size(inkSize(upright[1].image))} | ${meanRatio('0').toFixed(3)} / ${meanRatio('O').toFixed(3)} |`,
      );
    }
  }
  if (values.out) {
    const items = roundGlyphLookItems(FIGURE_VERSIONS.flatMap((version) => roundGlyphLooks(version).map((g) => ({ ...g, version }))));
    const png = await renderGrid(items, { columns: 4, cellWidth: 150, cellHeight: 180 });
    writeFileAtomic(values.out, png);
    console.log(`wrote ${values.out}: per row (${FIGURE_VERSIONS.join(', ')} at its largest font size), the font's 0 and O, then lepture's upright 0 and O without the warp`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
