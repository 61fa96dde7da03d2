/**
 * What in a lepture CAPTCHA makes 0 and O hard to tell apart? The model (default
 * models/pretrained, with its second look) reads texts that each hold one 0 or O, drawn as the
 * generator draws them and again with one part of the drawing left out: the noise dots, the arc,
 * both, the glyph warp, the glyph rotation; or with every glyph at one of the version's font sizes.
 * The same texts and seeds in every condition (the random draws part ways at the first part left
 * out), in every (lepture version x size) cell of the matrix. The models were trained on the
 * CAPTCHAs as drawn: a condition that reads better shows what that part costs them now.
 *
 *   node dist/scripts/clutter-study.js [--model-dir models/pretrained] [--count 200] [--seed 8086]
 *     [--conditions 'as drawn,no arc'] [--out <file.md>]
 *
 * Prints a Markdown table, a row per condition: the round glyph misread by the CRNN alone, after
 * the second look (in all and per version), and the texts read right. Then, for the texts as
 * drawn, the same by the round glyph's own rotation, font size, ink strength and how much of it
 * its neighbours cover (`onGlyph`: the draws, not a changed drawing). The default seed is used for nothing else (not a training, selection (31337)
 * or record (424242) seed).
 */
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { CAPTCHA_VERSION_PROFILES, ImageCaptcha, createRng, deriveSeed, type CaptchaVersion, type DrawnGlyph, type GlyphAtlas, type ImageCaptchaOptions, type RgbImage } from '../src/captcha';
import { parseIntArg } from '../src/cli/common';
import { createReportFolder, openModelReader } from '../src/cli/evaluate';
import { pixelsToTensor } from '../src/data/tensors';
import { DEFAULT_MATRIX_OPTIONS, ROUND_PAIR, secondLookAtZeroO, textWithOneRoundGlyph } from '../src/eval';
import { writeFileAtomic } from '../src/files';
import { ctcConstrainedDecode, ctcIndicesToText } from '../src/models';

/** One way of drawing: generator options on top of the version's own (font sizes by index into the version's). */
interface Condition {
  name: string;
  options: Partial<ImageCaptchaOptions>;
  fontSize?: number;
}

const CONDITIONS: Condition[] = [
  { name: 'as drawn', options: {} },
  { name: 'no noise dots', options: { noiseDots: 0 } },
  { name: 'no arc', options: { noiseCurve: false } },
  { name: 'no dots, no arc', options: { noiseDots: 0, noiseCurve: false } },
  { name: 'no glyph warp', options: { characterWarpDx: [0, 0], characterWarpDy: [0, 0] } },
  { name: 'no glyph rotation', options: { characterRotate: [0, 0] } },
  { name: 'smallest font only', options: {}, fontSize: 0 },
  { name: 'middle font only', options: {}, fontSize: 1 },
  { name: 'largest font only', options: {}, fontSize: 2 },
];

/** Misreads of the round glyph as drawn, by a property of that glyph. */
interface Bucketed {
  glyphs: number[];
  crnnWrong: number[];
  readerWrong: number[];
}

const ROTATION_BUCKETS = [0, 5, 10, 15, 20, 25] as const; // |angle| from each to the next (the last to 30)
const FONT_BUCKETS = ['smallest', 'middle', 'largest'] as const;
/** How strongly the ink was pasted (`DrawnGlyph.inkStrength`), from each to the next; the last bucket is ink pasted whole. */
const STRENGTH_BUCKETS = [0, 0.4, 0.6, 0.8, 1] as const;
/** How much of the round glyph's box its neighbours' boxes cover, both sides together, from each to the next (the last and up). */
const OVERLAP_BUCKETS = [0, 0.1, 0.2, 0.3] as const;

/** The share of glyph `k`'s box that the boxes of the characters drawn before and after it cover (spaces are blank, so not counted). */
function neighbourOverlap(drawn: readonly DrawnGlyph[], k: number): number {
  const g = drawn[k];
  const before = drawn.slice(0, k).reverse().find((d) => d.char !== ' ');
  const after = drawn.slice(k + 1).find((d) => d.char !== ' ');
  const covered = Math.max(0, (before?.right ?? -Infinity) - g.left) + Math.max(0, g.right - (after?.left ?? Infinity));
  return covered / (g.right - g.left);
}

/** `k` of `of` as a percentage; '-' for none. */
const pct = (k: number, of: number) => (of === 0 ? '-' : `${((100 * k) / of).toFixed(2)}%`);

function bucketed(n: number): Bucketed {
  return { glyphs: new Array(n).fill(0), crnnWrong: new Array(n).fill(0), readerWrong: new Array(n).fill(0) };
}

interface Tally {
  glyphs: number;
  crnnWrong: number;
  readerWrong: number;
  textsRight: number;
  perVersion: Map<CaptchaVersion, { glyphs: number; readerWrong: number }>;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'model-dir': { type: 'string', default: 'models/pretrained' },
      count: { type: 'string', default: '200' },
      seed: { type: 'string', default: '8086' },
      conditions: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const names = values.conditions?.split(',').map((n) => n.trim());
  const unknown = names?.filter((n) => !CONDITIONS.some((c) => c.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`--conditions: no condition '${unknown.join("', '")}'; pick from '${CONDITIONS.map((c) => c.name).join("', '")}'`);
  const conditions = names ? CONDITIONS.filter((c) => names.includes(c.name)) : CONDITIONS;
  const count = parseIntArg('--count', 1)(values.count!);
  const seed = parseIntArg('--seed')(values.seed!);
  if (values.out) createReportFolder(values.out); // now, not after the study
  const r = await openModelReader({ modelDir: values['model-dir'] });
  if (!r.secondLook || !r.textRules) throw new Error(`${r.modelDir} has no 0/O reader to study (metadata zeroOReader); attach one with scripts/zero-o-reader.ts attach`);
  if (r.logitShift) throw new Error(`${r.modelDir} is calibrated (metadata logitShift), which this study does not apply; study a copy without logitShift`);
  const { alphabet, input } = r.metadata;
  const { versions, sizes } = DEFAULT_MATRIX_OPTIONS;
  const started = Date.now();
  const rows: string[] = [];
  const atlases = new Map<string, GlyphAtlas>();
  const byRotation = bucketed(ROTATION_BUCKETS.length);
  const byFont = bucketed(FONT_BUCKETS.length);
  const byStrength = bucketed(STRENGTH_BUCKETS.length);
  const byOverlap = bucketed(OVERLAP_BUCKETS.length);
  for (const condition of conditions) {
    const asDrawn = condition.name === CONDITIONS[0].name;
    const tally: Tally = { glyphs: 0, crnnWrong: 0, readerWrong: 0, textsRight: 0, perVersion: new Map(versions.map((v) => [v, { glyphs: 0, readerWrong: 0 }])) };
    for (const [v, version] of versions.entries()) {
      for (const [s, size] of sizes.entries()) {
        const fontSizes = condition.fontSize === undefined ? {} : { fontSizes: [CAPTCHA_VERSION_PROFILES[version].fontSizes[condition.fontSize]] };
        // One glyph atlas per version and font sizes: each new one is rasterised through node-canvas, which keeps its memory.
        const atlasKey = `${version}|${JSON.stringify(fontSizes)}`;
        const options = { ...condition.options, ...fontSizes, alphabet, version };
        if (!atlases.has(atlasKey)) atlases.set(atlasKey, new ImageCaptcha(options).glyphAtlas());
        const generator = new ImageCaptcha({ ...options, width: size.width, height: size.height, glyphAtlas: atlases.get(atlasKey)! });
        const cell = (v * sizes.length + s) * count;
        for (let first = 0; first < count; first += 64) {
          const n = Math.min(64, count - first);
          const texts: string[] = [];
          const images: RgbImage[] = [];
          const round: DrawnGlyph[] = [];
          const overlaps: number[] = [];
          const pixels = new Uint8Array(n * size.width * size.height * 3);
          for (let i = 0; i < n; i++) {
            const rng = createRng(deriveSeed(`clutter-study/${seed}`, cell + first + i));
            texts.push(textWithOneRoundGlyph(rng, alphabet));
            const drawn: DrawnGlyph[] = [];
            images.push(generator.generateImage(texts[i], rng, { onGlyph: (g) => drawn.push(g) }));
            const k = drawn.findIndex((g) => (ROUND_PAIR as readonly string[]).includes(g.char));
            round.push(drawn[k]);
            overlaps.push(neighbourOverlap(drawn, k));
            pixels.set(images[i].data, i * images[i].data.length);
          }
          const xs = pixelsToTensor(pixels, n, size.height, size.width, input);
          const logits = r.model.predict(xs) as tf.Tensor3D;
          const decoded = ctcIndicesToText(await ctcConstrainedDecode(logits, r.textRules), alphabet);
          const read = await secondLookAtZeroO(decoded, logits, images, input, alphabet, r.secondLook.reader);
          tf.dispose([xs, logits]);
          const inVersion = tally.perVersion.get(version)!;
          texts.forEach((text, i) => {
            const at = [...text].findIndex((c) => (ROUND_PAIR as readonly string[]).includes(c));
            tally.glyphs++;
            inVersion.glyphs++;
            if (decoded[i][at] !== text[at]) tally.crnnWrong++;
            if (read[i][at] !== text[at]) {
              tally.readerWrong++;
              inVersion.readerWrong++;
            }
            if (read[i] === text) tally.textsRight++;
            if (!asDrawn) return;
            const font = CAPTCHA_VERSION_PROFILES[version].fontSizes.indexOf(round[i].fontSize);
            if (font < 0) throw new Error(`a ${version} glyph drawn at ${round[i].fontSize} px, not one of the version's sizes`);
            const rotation = ROTATION_BUCKETS.filter((from) => Math.abs(round[i].angle) >= from).length - 1;
            const strength = STRENGTH_BUCKETS.filter((from) => round[i].inkStrength >= from).length - 1;
            const overlap = OVERLAP_BUCKETS.filter((from) => overlaps[i] >= from).length - 1;
            for (const [table, k] of [[byRotation, rotation], [byFont, font], [byStrength, strength], [byOverlap, overlap]] as const) {
              table.glyphs[k]++;
              if (decoded[i][at] !== text[at]) table.crnnWrong[k]++;
              if (read[i][at] !== text[at]) table.readerWrong[k]++;
            }
          });
        }
      }
    }
    rows.push(
      `| ${condition.name} | ${pct(tally.crnnWrong, tally.glyphs)} | **${pct(tally.readerWrong, tally.glyphs)}** | ` +
        `${versions.map((v) => pct(tally.perVersion.get(v)!.readerWrong, tally.perVersion.get(v)!.glyphs)).join(' | ')} | ${pct(tally.textsRight, tally.glyphs)} |`,
    );
    console.error(`${rows[rows.length - 1]}  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  const perCondition = count * versions.length * sizes.length;
  const report = [
    `${r.modelDir} reads ${perCondition.toLocaleString('en-US')} texts per condition, each with one 0 or O (${count} per version x size cell: ${sizes.map((z) => `${z.width}x${z.height}`).join(', ')}), seed ${seed}.`,
    `Misread: the round glyph read as another character (0 for O, O for 0, or anything else).`,
    '',
    `| drawn with | misread by the CRNN | misread after the second look | ${versions.join(' | ')} | texts read right |`,
    `|---|---|---|${versions.map(() => '---').join('|')}|---|`,
    ...rows,
    '',
  ];
  if (conditions.some((c) => c.name === CONDITIONS[0].name)) {
    const table = (title: string, labels: readonly string[], b: Bucketed) => [
      `| ${title} | glyphs | misread by the CRNN | misread after the second look |`,
      '|---|---|---|---|',
      ...labels.map((label, k) => `| ${label} | ${b.glyphs[k]} | ${pct(b.crnnWrong[k], b.glyphs[k])} | ${pct(b.readerWrong[k], b.glyphs[k])} |`),
      '',
    ];
    report.push(
      "As drawn, by the round glyph's own rotation (the other glyphs as drawn):",
      '',
      ...table('rotation', ROTATION_BUCKETS.map((from, k) => `${from}-${ROTATION_BUCKETS[k + 1] ?? 30} degrees either way`), byRotation),
      "As drawn, by the round glyph's own font size (of its version's three):",
      '',
      ...table('font size', FONT_BUCKETS, byFont),
      "As drawn, by how strongly the text's ink was pasted (lepture pastes through the ink's own luma x 1.97: dark inks come out faint):",
      '',
      ...table('ink pasted at', STRENGTH_BUCKETS.map((from, k) => (from === 1 ? 'whole (ink luma 130 or more)' : `${from}-${STRENGTH_BUCKETS[k + 1]}`)), byStrength),
      "As drawn, by how much of the round glyph's box its neighbours' boxes cover (lepture overlaps them by up to a quarter of the average width; lepture's stretch fills each box with ink):",
      '',
      ...table('box covered', OVERLAP_BUCKETS.map((from, k) => (k === OVERLAP_BUCKETS.length - 1 ? `${100 * from}% or more` : `${100 * from}-${100 * OVERLAP_BUCKETS[k + 1]}%`)), byOverlap),
    );
  }
  const text = report.join('\n');
  console.log(text);
  if (values.out) writeFileAtomic(values.out, text);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
