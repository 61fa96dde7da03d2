/**
 * How often would even a dedicated reader confuse 0 and O? For each lepture version, trains a small
 * CNN to tell the two apart on isolated glyphs (src/eval/glyph-separability.ts: no neighbours, no
 * noise, no squeeze; fresh glyphs every step, so it cannot overfit) and reports its error on held-out
 * glyphs as training goes on. A flat tail means the classifier has reached what the glyphs allow;
 * its error is then an estimate of the best any reader can do on that character, of one version,
 * at that scale (`--scale 0.75`: as an 80-px-high CAPTCHA is seen through a 60-px input).
 *
 *   node dist/scripts/glyph-separability.js [--versions 0.7.0,0.7.1,0.2.2,0.2.2-pillow4] \
 *     [--scale 1] [--steps 1500] [--test 8000] [--pair 0O] [--rotate -30,30] [--out docs/glyph-separability.json]
 *   node dist/scripts/glyph-separability.js --captcha 160x60 [--drawing as-drawn,no-noise,...] [--versions ...] [--steps ...] [--out ...]
 *
 * `--rotate 0,0` draws every glyph upright (docs/pretrained.md: upright round glyphs are the hard ones).
 *
 * `--captcha 160x60 --drawing as-drawn` puts the glyph back into a CAPTCHA of that size and trains
 * the same classifier on the 0/O reader's window around it (56x80, cut at the glyph's true centre;
 * 0 and O only): which part of the CAPTCHA makes the pair hard for a reader trained on it. Drawings
 * (one or more, comma-separated; `DRAWINGS` below): as-drawn, no-noise (no dots, no arc), no-warp,
 * alone (the round glyph as the whole text), alone-no-noise, alone-no-noise-grey (grey ink pasted
 * whole on white, as the isolated glyphs are drawn).
 */
import * as tf from '@tensorflow/tfjs';
import { CAPTCHA_VERSIONS, type CaptchaVersion } from '../src/captcha';
import { GLYPH_INK, isolatedGlyphTensor, isolatedGlyphs, roundGlyphsInCaptchas, type IsolatedGlyphOptions, type RoundGlyphDrawing } from '../src/eval/glyph-separability';
import { ROUND_PAIR, cropsToTensor } from '../src/eval/zero-o-reader';
import { writeFileAtomic } from '../src/files';
import { startBackend } from '../src/cli/common';
import { createReportFolder } from '../src/cli/evaluate';

/** Ways to draw the round glyph's CAPTCHA (`--drawing`): a text of four or the glyph alone, with parts of lepture's drawing left out. */
const DRAWINGS: Record<string, Omit<RoundGlyphDrawing, 'version' | 'width' | 'height'>> = {
  'as-drawn': {},
  'no-noise': { options: { noiseDots: 0, noiseCurve: false } },
  'no-warp': { options: { characterWarpDx: [0, 0], characterWarpDy: [0, 0] } },
  alone: { alone: true },
  'alone-no-noise': { alone: true, options: { noiseDots: 0, noiseCurve: false } },
  // As the isolated glyphs are drawn: grey ink pasted whole, on white.
  'alone-no-noise-grey': { alone: true, options: { noiseDots: 0, noiseCurve: false }, colors: { bgColor: [255, 255, 255], fgColor: GLYPH_INK } },
};

interface Args {
  versions: CaptchaVersion[];
  captcha?: { width: number; height: number };
  drawings: string[];
  scale: number;
  steps: number;
  test: number;
  pair: [string, string];
  rotate?: [number, number];
  out?: string;
}

const BATCH = 64;
const TRAIN_SEED = 'glyph-separability-train';
const TEST_SEED = 'glyph-separability-test';

function parseArgs(argv: string[]): Args {
  const args: Args = { versions: [...CAPTCHA_VERSIONS], drawings: ['as-drawn'], scale: 1, steps: 1500, test: 8000, pair: ['0', 'O'] };
  let drawingGiven = false;
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`${flag} needs a value; see the comment at the top of scripts/glyph-separability.ts`);
    if (flag === '--versions') {
      args.versions = v.split(',').map((x) => {
        if (!(CAPTCHA_VERSIONS as readonly string[]).includes(x)) throw new Error(`--versions: '${x}' is not one of ${CAPTCHA_VERSIONS.join(', ')}`);
        return x as CaptchaVersion;
      });
    } else if (flag === '--scale') args.scale = Number(v);
    else if (flag === '--steps') args.steps = Number(v);
    else if (flag === '--test') args.test = Number(v);
    else if (flag === '--pair') args.pair = [...v] as [string, string];
    else if (flag === '--out') args.out = v;
    else if (flag === '--captcha') {
      const m = /^(\d+)x(\d+)$/.exec(v);
      if (!m || Number(m[1]) < 56 || Number(m[2]) < 40) throw new Error(`--captcha must be WIDTHxHEIGHT of a CAPTCHA at least 56x40, e.g. 160x60; got '${v}'`);
      args.captcha = { width: Number(m[1]), height: Number(m[2]) };
    } else if (flag === '--drawing') {
      args.drawings = v.split(',').map((d) => d.trim());
      const unknown = args.drawings.filter((d) => !(d in DRAWINGS));
      if (unknown.length > 0) throw new Error(`--drawing: no drawing '${unknown.join("', '")}'; pick from ${Object.keys(DRAWINGS).join(', ')}`);
      drawingGiven = true;
    }
    else if (flag === '--rotate') {
      const r = v.split(',').map(Number);
      if (r.length !== 2 || !r.every(Number.isFinite) || r[0] > r[1]) throw new Error(`--rotate must be min,max degrees with min <= max, e.g. 0,0 or -30,30; got '${v}'`);
      args.rotate = [r[0], r[1]];
    }
    else throw new Error(`unknown argument '${flag}'; see the comment at the top of scripts/glyph-separability.ts`);
  }
  if (!(args.scale > 0 && Number.isFinite(args.scale))) throw new Error(`--scale must be a positive number, e.g. 0.75; got ${args.scale}`);
  if (!(args.steps >= 1 && Number.isInteger(args.steps))) throw new Error(`--steps must be a whole number >= 1, got ${args.steps}`);
  if (!(args.test >= 100 && Number.isInteger(args.test))) throw new Error(`--test must be a whole number >= 100, got ${args.test}`);
  if (args.pair.length !== 2) throw new Error(`--pair must be two characters, e.g. 0O`);
  if (drawingGiven && !args.captcha) throw new Error('--drawing draws the glyph in a CAPTCHA: give its size too, e.g. --captcha 160x60');
  if (args.captcha && (args.pair.join('') !== ROUND_PAIR.join('') || args.scale !== 1 || args.rotate)) {
    throw new Error(`--captcha reads the 0/O reader's window as it is: it takes no --pair, --scale or --rotate (use --drawing)`);
  }
  return args;
}

/** A small VGG-like binary classifier: four 3x3 conv + pool stages, one hidden dense layer. */
function classifier(height: number, width: number): tf.LayersModel {
  const model = tf.sequential();
  const filters = [24, 48, 96, 96];
  filters.forEach((f, i) => {
    model.add(tf.layers.conv2d({ ...(i === 0 ? { inputShape: [height, width, 1] } : {}), filters: f, kernelSize: 3, padding: 'same', activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }));
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 96, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  return model;
}

/** What is drawn: an isolated glyph, or the reader's window in a CAPTCHA. */
type Source = { isolated: IsolatedGlyphOptions; scale: number } | { inCaptcha: RoundGlyphDrawing };

/** Ink high on a 0 background: what the network gets. */
function glyphInput(source: Source, seed: string, first: number, count: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  if ('inCaptcha' in source) {
    const { crops, labels } = roundGlyphsInCaptchas(source.inCaptcha, seed, first, count);
    return tf.tidy(() => ({ x: cropsToTensor(crops, count), y: tf.tensor2d(labels, [count, 1], 'float32') }));
  }
  const batch = isolatedGlyphs(source.isolated, seed, first, count);
  return tf.tidy(() => {
    const grey = isolatedGlyphTensor(batch, source.scale);
    return { x: tf.sub(1, grey).div(0.5) as tf.Tensor4D, y: tf.tensor2d(batch.labels, [count, 1], 'float32') };
  });
}

async function errorRate(model: tf.LayersModel, test: { x: tf.Tensor4D; y: tf.Tensor2D }): Promise<number> {
  const wrong = tf.tidy(() => {
    const p = model.predict(test.x, { batchSize: 500 }) as tf.Tensor2D;
    return tf.notEqual(tf.greater(p, 0.5).toFloat(), test.y).toFloat().sum();
  });
  const n = (await wrong.data())[0];
  wrong.dispose();
  return n / test.y.shape[0];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.out) createReportFolder(args.out); // now, not after the training
  await startBackend({});
  const results: Array<{ version: CaptchaVersion; drawing: string | null; curve: Array<{ step: number; glyphs: number; error: number }>; seconds: number }> = [];
  for (const version of args.versions) {
    for (const drawing of args.captcha ? args.drawings : [null]) {
      const source: Source =
        args.captcha && drawing !== null
          ? { inCaptcha: { version, ...args.captcha, ...DRAWINGS[drawing] } }
          : { isolated: { version, pair: args.pair, ...(args.rotate ? { rotate: args.rotate } : {}) }, scale: args.scale };
      const label = drawing === null ? `${version.padEnd(14)} scale ${args.scale}` : `${version.padEnd(14)} ${args.captcha!.width}x${args.captcha!.height} ${drawing}`;
      const started = Date.now();
      const test = glyphInput(source, TEST_SEED, 0, args.test);
      const model = classifier(test.x.shape[1], test.x.shape[2]);
      const curve: Array<{ step: number; glyphs: number; error: number }> = [];
      const checkpoints = new Set([Math.round(args.steps / 4), Math.round(args.steps / 2), Math.round((3 * args.steps) / 4), args.steps]);
      // Optimizers passed as objects are the caller's to free: model.dispose() leaves them.
      let optimizer: tf.Optimizer | undefined;
      for (let step = 1; step <= args.steps; step++) {
        // Adam at 1e-3, then 3e-4 for the last quarter to settle.
        if (step === 1 || step === Math.round((3 * args.steps) / 4) + 1) {
          optimizer?.dispose();
          optimizer = tf.train.adam(step === 1 ? 1e-3 : 3e-4);
          model.compile({ optimizer, loss: 'binaryCrossentropy' });
        }
        const { x, y } = glyphInput(source, TRAIN_SEED, (step - 1) * BATCH, BATCH);
        await model.trainOnBatch(x, y);
        tf.dispose([x, y]);
        if (checkpoints.has(step)) {
          const error = await errorRate(model, test);
          curve.push({ step, glyphs: step * BATCH, error });
          console.log(`${label}: step ${step} (${step * BATCH} glyphs): ${(100 * error).toFixed(2)}% of ${args.test} held-out glyphs confused (${((Date.now() - started) / 1000).toFixed(0)} s)`);
        }
      }
      results.push({ version, drawing, curve, seconds: (Date.now() - started) / 1000 });
      tf.dispose([test.x, test.y]);
      optimizer?.dispose();
      model.dispose();
    }
  }
  if (args.out) {
    const record = { pair: args.pair.join(''), scale: args.scale, rotate: args.rotate ?? null, captcha: args.captcha ?? null, batch: BATCH, test: args.test, trainSeed: TRAIN_SEED, testSeed: TEST_SEED, results };
    writeFileAtomic(args.out, JSON.stringify(record, null, 2) + '\n');
    console.log(`wrote ${args.out}`);
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
