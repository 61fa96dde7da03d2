/**
 * Fidelity check, two ways.
 *
 * 1. Bytes: replays every case of a replay file (lepture's own image.py run on recorded random
 *    draws, made by test/captcha/fixtures/make-lepture-replay.py) through our generator and counts
 *    the images that come out byte-identical, per version.
 * 2. Statistics: our generator vs 200 images made by the real lepture/captcha 0.7.1 (160x60).
 *    Draws the same labels with each of our versions, measures simple statistics on every set
 *    (colours, ink coverage, text extent, noise) and prints them as a markdown table with the
 *    relative difference of the means and the two-sample Kolmogorov-Smirnov distance to the real
 *    images. Writes a side-by-side contact sheet to docs/fidelity-contact-sheet.png.
 *
 * Every label is drawn `--repeat` times with different seeds (5 by default) so that our side of
 * the comparison has little sampling noise of its own.
 *
 *   npm run fidelity [-- --sample DIR] [--replay FILE] [--versions 0.7.1,0.7.0,...] [--sheet FILE]
 *                       [--rows 12] [--repeat 5] [--seed fidelity]
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import {
  CAPTCHA_VERSIONS,
  createRng,
  deriveSeed,
  ImageCaptcha,
  loadCanvas,
  readReplayFile,
  replayDraws,
  type CaptchaVersion,
  type RgbImage,
} from '../src/captcha';
import { decodeImageFile } from '../src/data/image-file';
import { writeFileAtomic } from '../src/files';
import { listLabeledFiles, type LabeledFile } from '../src/data/labeled-files';
import { DEFAULT_ALPHABET } from '../src/models/charset';

interface Args {
  sample: string;
  replay: string;
  versions: CaptchaVersion[];
  sheet: string;
  rows: number;
  repeat: number;
  seed: string;
}

/** Our versions in the table and the contact sheet, in this order. */
const TABLE_VERSIONS: CaptchaVersion[] = ['0.7.1', '0.7.0', '0.2.2', '0.2.2-pillow4'];

function parseVersions(v: string): CaptchaVersion[] {
  const list = v.split(',').map((s) => s.trim());
  const bad = list.filter((s) => !(CAPTCHA_VERSIONS as readonly string[]).includes(s));
  if (bad.length > 0 || list.length === 0) {
    throw new Error(`--versions takes a comma-separated list of ${CAPTCHA_VERSIONS.join(', ')}; got '${v}'`);
  }
  return list as CaptchaVersion[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    sample: path.resolve('..', 'shared', 'reference', 'lepture-160x60-sample'),
    replay: path.resolve('test', 'captcha', 'fixtures', 'lepture-replay.json'),
    versions: TABLE_VERSIONS,
    sheet: path.resolve('docs', 'fidelity-contact-sheet.png'),
    rows: 12,
    repeat: 5,
    seed: 'fidelity',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--sample') args.sample = path.resolve(v);
    else if (k === '--replay') args.replay = path.resolve(v);
    else if (k === '--versions') args.versions = parseVersions(v);
    else if (k === '--sheet') args.sheet = path.resolve(v);
    else if (k === '--rows') args.rows = Number(v);
    else if (k === '--repeat') args.repeat = Number(v);
    else if (k === '--seed') args.seed = v;
    else throw new Error(`unknown argument '${k}'; use --sample DIR, --replay FILE, --versions LIST, --sheet FILE, --rows N, --repeat N, --seed S`);
  }
  if (!Number.isInteger(args.repeat) || args.repeat < 1) throw new Error(`--repeat must be a positive integer, got ${args.repeat}`);
  if (!Number.isInteger(args.rows) || args.rows < 1) throw new Error(`--rows must be a positive integer, got ${args.rows}`);
  return args;
}

/** Replays every case through our generator; per version, how many came out byte-identical. */
function replayFile(file: string): Map<CaptchaVersion, { same: number; total: number }> {
  const cases = readReplayFile(file);
  const generators = new Map<string, ImageCaptcha>();
  const counts = new Map<CaptchaVersion, { same: number; total: number }>();
  for (const c of cases) {
    const key = `${c.version} ${c.width}x${c.height}`;
    if (!generators.has(key)) generators.set(key, new ImageCaptcha({ version: c.version, width: c.width, height: c.height }));
    const count = counts.get(c.version) ?? { same: 0, total: 0 };
    counts.set(c.version, count);
    count.total++;
    const rng = replayDraws(c.draws);
    try {
      const img = generators.get(key)!.generateImage(c.label, rng, { keepWidth: true });
      if (rng.left() === 0 && crypto.createHash('sha256').update(img.data).digest('hex') === c.sha256) count.same++;
    } catch {
      // a draw of another kind than lepture made: not the same image
    }
  }
  return counts;
}

/** The reference sample's images and labels (its labels.csv), through the project's own reader. */
function readSample(dir: string): LabeledFile[] {
  if (!fs.existsSync(path.join(dir, 'labels.csv'))) throw new Error(`no labels.csv in '${dir}'; pass the reference sample folder with --sample`);
  return listLabeledFiles(dir, DEFAULT_ALPHABET);
}

// ---------------------------------------------------------------------------------------------
// Statistics of one image

const luma = (r: number, g: number, b: number): number => 0.299 * r + 0.587 * g + 0.114 * b;

/** Ink = pixels farther than this (max channel difference) from the background colour. */
const INK_THRESHOLD = 40;
/** A column/row belongs to the text when it has at least this many ink pixels (dots and arc add 1-3). */
const TEXT_MIN_INK = 6;

type Stats = Record<string, number>;

function imageStats(img: RgbImage): Stats {
  const { width: w, height: h, data: d } = img;
  const n = w * h;
  // 1. Background: the most frequent colour.
  const counts = new Map<number, number>();
  for (let i = 0; i < d.length; i += 3) {
    const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let bg = 0;
  let best = -1;
  for (const [k, c] of counts) {
    if (c > best) {
      best = c;
      bg = k;
    }
  }
  const br = bg >> 16;
  const bgG = (bg >> 8) & 255;
  const bb = bg & 255;
  // 2. Ink mask and distance from the background.
  const ink = new Uint8Array(n);
  const dist = new Float64Array(n);
  let inkCount = 0;
  let lumaSum = 0;
  let lumaSq = 0;
  let grad = 0;
  for (let p = 0; p < n; p++) {
    const r = d[p * 3];
    const g = d[p * 3 + 1];
    const b = d[p * 3 + 2];
    const dd = Math.max(Math.abs(r - br), Math.abs(g - bgG), Math.abs(b - bb));
    dist[p] = dd;
    if (dd > INK_THRESHOLD) {
      ink[p] = 1;
      inkCount++;
    }
    const l = luma(r, g, b);
    lumaSum += l;
    lumaSq += l * l;
    if (p % w < w - 1) grad += Math.abs(l - luma(d[p * 3 + 3], d[p * 3 + 4], d[p * 3 + 5]));
  }
  // 3. Ink colour: median of the 20 pixels farthest from the background (dot and arc cores).
  const order = Array.from(dist.keys()).sort((a, b) => dist[b] - dist[a]).slice(0, 20);
  const med = (c: number): number => {
    const v = order.map((p) => d[p * 3 + c]).sort((a, b) => a - b);
    return v[v.length >> 1];
  };
  const inkR = med(0);
  const inkG = med(1);
  const inkB = med(2);
  // 4. Text extent from column and row ink counts.
  const colInk = new Array(w).fill(0);
  const rowInk = new Array(h).fill(0);
  for (let p = 0; p < n; p++) {
    if (ink[p]) {
      colInk[p % w]++;
      rowInk[Math.floor(p / w)]++;
    }
  }
  const extent = (a: number[]): number => {
    const first = a.findIndex((v) => v >= TEXT_MIN_INK);
    if (first < 0) return 0;
    let last = a.length - 1;
    while (a[last] < TEXT_MIN_INK) last--;
    return last - first + 1;
  };
  const textCols = colInk.filter((v) => v >= TEXT_MIN_INK).length;
  // 5. Connected ink components (4-neighbour): small ones are noise dots, the largest a glyph cluster.
  const seen = new Uint8Array(n);
  let small = 0;
  let largest = 0;
  let components = 0;
  const stack: number[] = [];
  for (let p = 0; p < n; p++) {
    if (!ink[p] || seen[p]) continue;
    components++;
    let size = 0;
    stack.push(p);
    seen[p] = 1;
    while (stack.length) {
      const q = stack.pop()!;
      size++;
      const x = q % w;
      const nb = [x > 0 ? q - 1 : -1, x < w - 1 ? q + 1 : -1, q - w, q + w];
      for (const r of nb) {
        if (r >= 0 && r < n && ink[r] && !seen[r]) {
          seen[r] = 1;
          stack.push(r);
        }
      }
    }
    if (size <= 16) small++;
    if (size > largest) largest = size;
  }
  const meanL = lumaSum / n;
  return {
    'background R': br,
    'background G': bgG,
    'background B': bb,
    'background luma': luma(br, bgG, bb),
    'ink colour luma': luma(inkR, inkG, inkB),
    'ink colour chroma (max-min channel)': Math.max(inkR, inkG, inkB) - Math.min(inkR, inkG, inkB),
    'ink pixel fraction': inkCount / n,
    'text width (cols >= 6 ink px)': extent(colInk),
    'text height (rows >= 6 ink px)': extent(rowInk),
    'text columns (>= 6 ink px)': textCols,
    'ink components': components,
    'small components (<= 16 px, dots)': small,
    'largest component, px': largest,
    'mean luma': meanL,
    'luma std': Math.sqrt(Math.max(0, lumaSq / n - meanL * meanL)),
    'horizontal gradient / px': grad / (n - h),
  };
}

// ---------------------------------------------------------------------------------------------

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / v.length;
}

function sd(v: number[]): number {
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) * (b - m), 0) / Math.max(1, v.length - 1));
}

/** Two-sample Kolmogorov-Smirnov distance: max |F1 - F2|. */
function ks(a: number[], b: number[]): number {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toFixed(3);
}

function pctDiff(ours: number, real: number): string {
  if (real === 0) return ours === 0 ? '0%' : 'n/a';
  const r = (100 * (ours - real)) / Math.abs(real);
  return `${r >= 0 ? '+' : ''}${r.toFixed(1)}%`;
}

/** Real | ours, one column per version, for the first `rows` labels, at 2x, with the label. */
function contactSheet(rows: number, real: RgbImage[], ours: Map<CaptchaVersion, RgbImage[]>, labels: string[], file: string): void {
  const { createCanvas } = loadCanvas();
  const scale = 2;
  const cw = 160 * scale;
  const ch = 60 * scale;
  const labelW = 90;
  const header = 28;
  const gap = 6;
  const columns: [string, RgbImage[]][] = [['real lepture 0.7.1', real], ...[...ours].map(([v, imgs]): [string, RgbImage[]] => [`ours, version ${v}`, imgs])];
  const canvas = createCanvas(labelW + columns.length * (cw + gap), header + rows * (ch + gap));
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = '#000000';
  ctx.font = 'bold 16px sans-serif';
  columns.forEach(([title], i) => ctx.fillText(title, labelW + i * (cw + gap) + 4, 20));
  const put = (img: RgbImage, x: number, y: number): void => {
    const id = ctx.createImageData(cw, ch);
    for (let yy = 0; yy < ch; yy++) {
      for (let xx = 0; xx < cw; xx++) {
        const s = (Math.floor(yy / scale) * img.width + Math.floor(xx / scale)) * 3;
        const o = (yy * cw + xx) * 4;
        id.data[o] = img.data[s];
        id.data[o + 1] = img.data[s + 1];
        id.data[o + 2] = img.data[s + 2];
        id.data[o + 3] = 255;
      }
    }
    ctx.putImageData(id, x, y);
  };
  for (let r = 0; r < rows; r++) {
    const y = header + r * (ch + gap);
    ctx.fillStyle = '#000000';
    ctx.font = '18px monospace';
    ctx.fillText(labels[r], 8, y + ch / 2 + 6);
    columns.forEach(([, imgs], i) => put(imgs[r], labelW + i * (cw + gap), y));
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, canvas.toBuffer('image/png')); // a committed figure: never left half-written
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const t0 = performance.now();
  // 0. Bytes: lepture's own code on recorded draws against ours.
  console.log(`replaying ${path.relative(process.cwd(), args.replay)} (lepture's image.py on recorded draws):`);
  for (const [version, { same, total }] of replayFile(args.replay)) {
    console.log(`  ${version}: ${same}/${total} images byte-identical`);
  }
  // 1. The real images and their labels.
  const sample = readSample(args.sample);
  const real = await Promise.all(sample.map((s) => decodeImageFile(s.file)));
  const labels = sample.map((s) => s.label);
  console.log(`read ${real.length} real images from ${args.sample}`);
  // 2. Ours, same labels, every version; draw r of label i uses deriveSeed(--seed, r * N + i).
  const ours = new Map<CaptchaVersion, RgbImage[]>();
  for (const version of args.versions) {
    const captcha = new ImageCaptcha({ version });
    const images: RgbImage[] = [];
    for (let r = 0; r < args.repeat; r++) {
      labels.forEach((label, i) => images.push(captcha.generateImage(label, createRng(deriveSeed(args.seed, r * labels.length + i)))));
    }
    ours.set(version, images);
  }
  // 3. Statistics.
  const sets: Record<string, Stats[]> = { real: real.map(imageStats) };
  for (const [version, images] of ours) sets[version] = images.map(imageStats);
  const nReal = sets.real.length;
  const nOurs = sets[args.versions[0]].length;
  const keys = Object.keys(sets.real[0]);
  const col = (set: string, k: string): number[] => sets[set].map((s) => s[k]);
  // 5% critical value of the two-sample KS distance for these sample sizes.
  const ksCritical = 1.36 * Math.sqrt((nReal + nOurs) / (nReal * nOurs));
  console.log(
    `\n${nReal} real images, ${nOurs} of ours per version (each label ${args.repeat}x); mean ± sd; ` +
      `Δ = relative difference of the means; KS = Kolmogorov-Smirnov distance to real (5% critical value ${ksCritical.toFixed(3)})\n`,
  );
  console.log(`| statistic | real 0.7.1 | ${args.versions.map((v) => `ours ${v} | Δ | KS`).join(' | ')} |`);
  console.log(`|---|---|${args.versions.map(() => '---|---|---').join('|')}|`);
  for (const k of keys) {
    const r = col('real', k);
    const cells = args.versions.map((v) => {
      const a = col(v, k);
      return `${fmt(mean(a))} ± ${fmt(sd(a))} | ${pctDiff(mean(a), mean(r))} | ${ks(a, r).toFixed(2)}`;
    });
    console.log(`| ${k} | ${fmt(mean(r))} ± ${fmt(sd(r))} | ${cells.join(' | ')} |`);
  }
  // Range check the library guarantees: background 238-255 per channel.
  const range = (set: string, keysOf: string[]): string => {
    const v = keysOf.flatMap((k) => col(set, k));
    return `${Math.min(...v)}-${Math.max(...v)}`;
  };
  const bgKeys = ['background R', 'background G', 'background B'];
  const ourRanges = args.versions.map((v) => `ours ${v} ${range(v, bgKeys)}`).join(', ');
  console.log(`\nbackground channel range: real ${range('real', bgKeys)}, ${ourRanges}`);
  // 4. Contact sheet.
  const rows = Math.min(args.rows, real.length);
  contactSheet(rows, real, ours, labels, args.sheet);
  console.log(`contact sheet (${rows} rows: real | ${args.versions.map((v) => `ours ${v}`).join(' | ')}): ${path.relative(process.cwd(), args.sheet)}`);
  console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
