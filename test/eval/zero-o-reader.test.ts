import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../../src/captcha';
import {
  LOG_ODDS_LIMIT,
  ZERO_O_CROP,
  roundGlyphSites,
  createZeroOReader,
  createWindowExpert,
  withWindowExpert,
  cropAround,
  mirrorCrops,
  evaluateModel,
  frameToSourceX,
  roundGlyphFrame,
  roundGlyphFrames,
  secondLookAtZeroO,
  textWithOneRoundGlyph,
  type TextBatch,
} from '../../src/eval';
import { createRng } from '../../src/captcha';
import { reportFileName } from '../../src/eval/report-file';
import { loadModel, loadZeroOReader, saveModel } from '../../src/models';
import { logitsModel, tempDir, useNativeBackend } from '../helpers';

const ALPHABET = 'A0O'; // blank = 3

/** Softmax-like probabilities [steps, 4] with `peaks` frame -> class, blank elsewhere. */
function probs(steps: number, peaks: Record<number, number>): Float32Array {
  const p = new Float32Array(steps * 4);
  for (let t = 0; t < steps; t++) p[t * 4 + (peaks[t] ?? 3)] = 1;
  return p;
}

/** A reader with the real one's inputs whose answer is fixed: always 'O' (bias +30) or always '0' (bias -30). */
function constantReader(answerO: boolean): tf.LayersModel {
  const crop = tf.input({ shape: [ZERO_O_CROP.height, ZERO_O_CROP.width, 1] });
  const prior = tf.input({ shape: [1] });
  const flat = tf.layers.flatten().apply(crop) as tf.SymbolicTensor;
  const both = tf.layers.concatenate().apply([flat, prior]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: 'zeros', biasInitializer: tf.initializers.constant({ value: answerO ? 30 : -30 }) }).apply(both);
  return tf.model({ inputs: [crop, prior], outputs: out as tf.SymbolicTensor });
}

/** A white image with a grey bar (colour `ink`) in columns [x, x + 3). */
function barImage(width: number, height: number, x: number, ink = 100): RgbImage {
  const data = new Uint8Array(width * height * 3).fill(250);
  for (let y = 10; y < height - 10; y++) for (let c = x; c < x + 3; c++) data.fill(ink, (y * width + c) * 3, (y * width + c) * 3 + 3);
  return { width, height, data };
}

describe('the second look at 0 and O (zero-o-reader)', () => {
  before(useNativeBackend);

  it('finds the round glyph at the frames holding the 0/O probability, or nowhere', () => {
    // an O at frame 6: there, leaning to O as far as the clip allows
    assert.deepEqual(roundGlyphFrame(probs(10, { 2: 0, 6: 2 }), 10, 4, ALPHABET), { frame: 6, logOdds: LOG_ODDS_LIMIT });
    // split between two neighbouring frames, a 0 then an O, 1:3: their weighted mean, log(3) towards O
    const split = probs(10, {});
    split.set([0, 0.25, 0, 0.75], 6 * 4);
    split.set([0, 0, 1, 0], 7 * 4);
    const found = roundGlyphFrame(split, 10, 4, ALPHABET)!;
    assert.ok(Math.abs(found.frame - 6.8) < 1e-6 && Math.abs(found.logOdds - Math.log(4)) < 1e-6, JSON.stringify(found));
    assert.equal(roundGlyphFrame(probs(10, { 2: 0 }), 10, 4, ALPHABET), null);
    assert.throws(() => roundGlyphFrame(probs(10, {}), 10, 4, 'ABC'), /lacks 0 or O/);
  });

  it('finds both round glyphs of a text with a 0 and an O, in reading order, each scored on its own frames', () => {
    // an O at frame 7, a weaker 0 at frame 2: found left to right
    const two = probs(12, { 7: 2 });
    two.set([0, 0.6, 0, 0.4], 2 * 4);
    assert.deepEqual(roundGlyphFrames(two, 12, 4, ALPHABET, 2), [
      { frame: 2, logOdds: -LOG_ODDS_LIMIT },
      { frame: 7, logOdds: LOG_ODDS_LIMIT },
    ]);
    // one glyph spread over frames 4-5 is one glyph, not two: the second must be 3 frames away
    const spread = probs(12, {});
    spread.set([0, 0.5, 0.5, 0], 4 * 4);
    spread.set([0, 0.5, 0.5, 0], 5 * 4);
    assert.equal(roundGlyphFrames(spread, 12, 4, ALPHABET, 2), null);
    // 3 frames apart, a frame between them counts for the nearer glyph only (frame 5 for the one at 6)
    const close = probs(12, { 3: 1, 6: 2 });
    close.set([0, 0.2, 0, 0.8], 5 * 4);
    const [left, right] = roundGlyphFrames(close, 12, 4, ALPHABET, 2)!;
    assert.equal(left.frame, 3);
    assert.ok(Math.abs(right.frame - (5 * 0.2 + 6) / 1.2) < 1e-6, JSON.stringify(right));
    // one glyph: the strongest, as before
    assert.deepEqual(roundGlyphFrames(two, 12, 4, ALPHABET, 1), [{ frame: 7, logOdds: LOG_ODDS_LIMIT }]);
  });

  it('maps an output frame back to a column of the original image, letterboxed or stretched', () => {
    const input = { height: 60, width: 160, channels: 1 };
    // 40 frames over 160 px: frame 19.5 is the input's middle, which is the image's middle either way
    // (letterboxed: within the px the centring rounds off)
    assert.ok(Math.abs(frameToSourceX(19.5, 40, { ...input, fit: 'letterbox' }, { width: 140, height: 80 }) - 70) < 1);
    assert.equal(frameToSourceX(19.5, 40, input, { width: 140, height: 80 }), 70);
    // frame 0 looks at input column 2; letterboxed, 140x80 is 105 px wide from column 27 (scale 0.75)
    assert.ok(Math.abs(frameToSourceX(0, 40, { ...input, fit: 'letterbox' }, { width: 140, height: 80 }) - (2 - 27.5) / 0.75) < 1);
    assert.equal(frameToSourceX(0, 40, input, { width: 320, height: 60 }), 4);
  });

  it('cuts a window centred on the glyph, ink strong and background 0 whatever the colours', () => {
    const { width, height } = ZERO_O_CROP;
    const crop = cropAround(barImage(150, 70, 99), 100);
    // the bar (columns 99-101) lands in the window's middle columns, its middle (100) in the middle
    const row = [...crop.subarray(40 * width, 41 * width)];
    assert.deepEqual([row.indexOf(255), row.lastIndexOf(255)], [width / 2 - 1, width / 2 + 1]);
    assert.equal(crop[0], 0);
    // another ink colour, the same crop
    assert.deepEqual(cropAround(barImage(150, 70, 99, 30), 100), crop);
    // past the image's left edge: background
    const edge = cropAround(barImage(150, 60, 1), 2);
    assert.equal(edge.length, width * height);
    assert.equal(edge[40 * width + 0], 0);
  });

  it('draws texts of 4 distinct characters with exactly one 0 or O, at every place, and refuses alphabets that cannot', () => {
    const rng = createRng('round-texts');
    const texts = Array.from({ length: 400 }, () => textWithOneRoundGlyph(rng, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'));
    for (const text of texts) {
      assert.equal(text.length, 4);
      assert.equal(new Set(text).size, 4, `${text} repeats a character`);
      assert.equal([...text].filter((c) => c === '0' || c === 'O').length, 1, `${text} has not exactly one 0 or O`);
    }
    const at = new Set(texts.map((t) => t.search(/[0O]/)));
    assert.deepEqual([...at].sort(), [0, 1, 2, 3]);
    assert.ok(texts.some((t) => t.includes('0')) && texts.some((t) => t.includes('O')));
    assert.throws(() => textWithOneRoundGlyph(rng, '0123456789'), /lacks 0 or O/);
    assert.throws(() => textWithOneRoundGlyph(rng, '0OAB'), /2 characters besides 0 and O/);
  });

  it('mirrors windows left to right, only those asked, and refuses a partial window', () => {
    const { width, height } = ZERO_O_CROP;
    const two = new Uint8Array(2 * width * height);
    two[3 * width + 0] = 200; // window 0, row 3, first column
    two[width * height + 5 * width + 1] = 100; // window 1, row 5, second column
    const both = mirrorCrops(two);
    assert.equal(both[3 * width + width - 1], 200);
    assert.equal(both[3 * width + 0], 0);
    assert.equal(both[width * height + 5 * width + width - 2], 100);
    assert.deepEqual(mirrorCrops(both), two, 'mirroring twice gives the windows back');
    const first = mirrorCrops(two, (n) => n === 0);
    assert.deepEqual(first.subarray(width * height), two.subarray(width * height), 'window 1 untouched');
    assert.equal(two[3 * width], 200, 'the input is not changed');
    assert.throws(() => mirrorCrops(new Uint8Array(width * height + 1)), /whole crops of 56x80/);
  });

  it('locates each lone round glyph in its own image, skipping texts with none, and both of a 0 and an O when asked', () => {
    const input = { height: 1, width: 40, channels: 1, fit: 'stretch' as const };
    const batch = [probs(10, { 2: 0, 6: 1 }), probs(10, { 3: 2 }), probs(10, { 1: 1, 8: 2 })];
    const all = new Float32Array(batch.flatMap((p) => [...p]));
    const sites = roundGlyphSites(['A0', 'O', '0O'], all, 10, 4, ALPHABET, input, [{ width: 160, height: 60 }, { width: 80, height: 60 }, { width: 160, height: 60 }]);
    // frame 6 of 10 over a 40-px input: column 26 of it, 104 of a 160-px image; frame 3: column 14, 28 of an 80-px one
    assert.deepEqual(sites.map(({ index, x, position }) => ({ index, x, position })), [
      { index: 0, x: 104, position: 1 },
      { index: 1, x: 28, position: 0 },
    ]);
    // with pairs, also the 0 (frame 1: column 6, 24 of 160) and the O (frame 8: column 34, 136) of 'A0BO';
    // not 'AB' (no round glyph) nor '00' (two of a kind: not a 0-and-O pair, though the output has two peaks)
    const pairs = [probs(10, { 1: 1, 8: 2 }), probs(10, { 1: 0, 8: 0 }), probs(10, { 1: 1, 8: 1 })];
    const withPairs = roundGlyphSites(['A0BO', 'AB', '00'], new Float32Array(pairs.flatMap((p) => [...p])), 10, 4, ALPHABET, input, [0, 1, 2].map(() => ({ width: 160, height: 60 })), true);
    assert.deepEqual(withPairs.map(({ index, x, position }) => ({ index, x, position })), [
      { index: 0, x: 24, position: 1 },
      { index: 0, x: 136, position: 3 },
    ]);
  });

  it('replaces a lone 0 or O by the reader answer, and leaves a text alone where the glyphs cannot be located', async () => {
    const input = { height: 1, width: 40, channels: 1, fit: 'stretch' as const };
    const logits = tf.tensor3d([probs(10, { 2: 0, 6: 1 }), probs(10, { 2: 1, 6: 0 }), probs(10, { 2: 0, 5: 2, 8: 0 })].map((p) => [...p].map((v) => 10 * v)).flat(), [3, 10, 4]);
    const images = [0, 1, 2].map(() => barImage(160, 60, 50));
    const texts = ['A0', '0A', '0OA'];
    assert.deepEqual(await secondLookAtZeroO(texts, logits, images, input, ALPHABET, constantReader(true)), ['AO', 'OA', '0OA']);
    assert.deepEqual(await secondLookAtZeroO(texts, logits, images, input, ALPHABET, constantReader(false)), ['A0', '0A', '0OA']);
    await assert.rejects(secondLookAtZeroO(texts, logits, images.slice(1), input, ALPHABET, constantReader(true)), /needs the 3 original images/);
    logits.dispose();
  });

  it('gives the O of a text with a 0 and an O to the glyph the reader finds rounder', async () => {
    const input = { height: 1, width: 48, channels: 1, fit: 'stretch' as const };
    // the decoder read '0O', but the CTC lean at the left glyph is O (frame 2) and at the right one 0 (frame 8)
    const lean = probs(12, {});
    lean.set([0, 0.3, 0.7, 0], 2 * 4);
    lean.set([0, 0.6, 0.4, 0], 8 * 4);
    const logits = tf.tensor3d([...lean].map((v) => Math.log(v + 1e-6)), [1, 12, 4]);
    const images = [barImage(160, 60, 50)];
    // a new reader answers what the CTC model leans to: sigmoid of its log-odds at each glyph
    const reader = createZeroOReader(3);
    assert.deepEqual(await secondLookAtZeroO(['0OA'], logits, images, input, ALPHABET, reader), ['O0A']);
    assert.deepEqual(await secondLookAtZeroO(['O0A'], logits, images, input, ALPHABET, reader), ['O0A']);
    // a reader sure that both are O (its probabilities saturate: a tie): the CTC model's lean decides,
    // here for the right glyph
    const rightLean = probs(12, {});
    rightLean.set([0, 0.6, 0.4, 0], 2 * 4);
    rightLean.set([0, 0.3, 0.7, 0], 8 * 4);
    const right = tf.tensor3d([...rightLean].map((v) => Math.log(v + 1e-6)), [1, 12, 4]);
    assert.deepEqual(await secondLookAtZeroO(['AO0'], right, images, input, ALPHABET, constantReader(true)), ['A0O']);
    assert.deepEqual(await secondLookAtZeroO(['AO0'], right, images, input, ALPHABET, constantReader(false)), ['A0O']);
    // ... and with no lean either, the left glyph is the O
    const even = tf.tensor3d([...probs(12, { 2: 2, 8: 2 })].map((v) => Math.log(v + 1e-6)), [1, 12, 4]);
    assert.deepEqual(await secondLookAtZeroO(['0OA'], even, images, input, ALPHABET, constantReader(true)), ['O0A']);
    tf.dispose([right, even]);
    logits.dispose();
    reader.dispose();
  });

  it('averages the reader over windows shifted left and right of the glyph when asked, and refuses bad shifts', async () => {
    // A reader that answers O (logit +20) when the window's middle column holds the ink of a 40-px bar, 0 (-20) otherwise.
    const { width, height } = ZERO_O_CROP;
    const crop = tf.input({ shape: [height, width, 1] });
    const prior = tf.input({ shape: [1] });
    const flat = tf.layers.flatten().apply(crop) as tf.SymbolicTensor;
    const both = tf.layers.concatenate().apply([flat, prior]) as tf.SymbolicTensor;
    const dense = tf.layers.dense({ units: 1, activation: 'sigmoid' });
    const reader = tf.model({ inputs: [crop, prior], outputs: dense.apply(both) as tf.SymbolicTensor });
    const kernel = new Float32Array(width * height + 1);
    for (let y = 0; y < height; y++) kernel[y * width + width / 2] = 1;
    dense.setWeights([tf.tensor2d(kernel, [width * height + 1, 1]), tf.tensor1d([-20])]);
    // an O at frame 6 of 10 over a 40-px input: column 104 of the 160-px image, where the bar is (103-105)
    const input = { height: 1, width: 40, channels: 1, fit: 'stretch' as const };
    const logits = tf.tensor3d([...probs(10, { 2: 0, 6: 2 })].map((v) => 10 * v), [1, 10, 4]);
    const images = [barImage(160, 60, 103)];
    assert.deepEqual(await secondLookAtZeroO(['AO'], logits, images, input, ALPHABET, reader), ['AO']);
    // 2 px either side, the bar leaves the middle column: two windows of three say 0
    assert.deepEqual(await secondLookAtZeroO(['AO'], logits, images, input, ALPHABET, reader, [-2, 0, 2]), ['A0']);
    await assert.rejects(secondLookAtZeroO(['AO'], logits, images, input, ALPHABET, reader, []), /one or more whole numbers/);
    await assert.rejects(secondLookAtZeroO(['AO'], logits, images, input, ALPHABET, reader, [0.5]), /one or more whole numbers/);
    tf.dispose([logits]);
    reader.dispose();
  });

  it('starts out answering what the CTC model leans to (its correction starts at zero)', async () => {
    const reader = createZeroOReader(5);
    const crops = tf.randomUniform([4, ZERO_O_CROP.height, ZERO_O_CROP.width, 1], 0, 1, 'float32', 3);
    const p = reader.predict([crops, tf.tensor2d([-3, -0.5, 0.5, 3], [4, 1])]) as tf.Tensor;
    const expected = [-3, -0.5, 0.5, 3].map((v) => 1 / (1 + Math.exp(-v)));
    (await p.data()).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${v} vs ${expected[i]}`));
    tf.dispose([crops, p]);
  });

  it('builds the same window expert from the same seed, every weight, and another from another seed', () => {
    const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    const [a, b, c] = [createWindowExpert(7), createWindowExpert(7), createWindowExpert(8)];
    assert.deepEqual(weightsOf(a), weightsOf(b));
    // The last kernel is the logit's: seeded too, not only the trunk's convolutions.
    const last = (m: tf.LayersModel) => Array.from(m.getLayer('expert_logit').getWeights()[0].dataSync());
    assert.deepEqual(last(a), last(b));
    assert.notDeepEqual(last(a), last(c));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('reads with a window expert beside it as the sum of their logits, the expert weighted', async () => {
    const reader = createZeroOReader(5);
    // A correction that is not zero, so that the reader's window branch counts too.
    const correction = reader.getLayer('correction');
    correction.setWeights(correction.getWeights().map((w) => tf.randomNormal(w.shape, 0, 0.3, 'float32', 11)));
    const expert = createWindowExpert(7);
    const crops = tf.randomUniform([6, ZERO_O_CROP.height, ZERO_O_CROP.width, 1], 0, 1, 'float32', 3);
    const prior = tf.tensor2d([-3, -1, 0, 0.5, 2, 4], [6, 1]);
    const logit = (p: number) => Math.log(p / (1 - p));
    const r = await (reader.predict([crops, prior]) as tf.Tensor).data();
    const e = await (expert.predict(crops) as tf.Tensor).data();
    for (const weight of [0, 0.7]) {
      const both = withWindowExpert(reader, expert, weight);
      const p = await (both.predict([crops, prior]) as tf.Tensor).data();
      p.forEach((v, i) => {
        const expected = 1 / (1 + Math.exp(-(logit(r[i]) + weight * logit(e[i]))));
        assert.ok(Math.abs(v - expected) < 1e-4, `weight ${weight} #${i}: ${v} vs ${expected}`);
      });
      both.dispose();
    }
    assert.throws(() => withWindowExpert(expert, reader, 1), /the reader has \d+ layers with weights, expected \d+: is it a reader\?/);
    assert.throws(() => withWindowExpert(reader, expert, NaN), /weight must be a finite number/);
    tf.dispose([crops, prior]);
    reader.dispose();
    expert.dispose();
  });

  it('is used by evaluateModel when asked, and refuses batches without their images', async () => {
    const model = logitsModel(4, 4);
    const xs = () => tf.tensor4d([[[[0, 0, 0, 10], [10, 0, 0, 0], [0, 10, 0, 0], [0, 0, 0, 10]]]]);
    const input = { height: 1, width: 4, channels: 1 };
    const batch = (withImages: boolean): TextBatch => ({ xs: xs(), texts: ['AO'], ...(withImages ? { images: [barImage(160, 60, 80)] } : {}) });
    async function* one(b: TextBatch): AsyncGenerator<TextBatch> {
      yield b;
    }
    const options = { alphabet: ALPHABET, head: 'ctc' as const, textRules: { min: 2, max: 2 } };
    assert.equal((await evaluateModel(model, one(batch(true)), options)).predictions[0], 'A0');
    const again = await evaluateModel(model, one(batch(true)), { ...options, secondLook: { reader: constantReader(true), input } });
    assert.equal(again.predictions[0], 'AO');
    await assert.rejects(evaluateModel(model, one(batch(false)), { ...options, secondLook: { reader: constantReader(true), input } }), /carries none.*--no-second-look/);
  });

  it('is saved inside the model folder and loaded with it; a bad folder name is refused with the fix', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const metadata = { architecture: 'crnn', alphabet: ALPHABET, input: { height: 1, width: 4, channels: 1 }, length: 2 };
      await saveModel(logitsModel(4, 4), dir, { ...metadata, zeroOReader: 'zero-o-reader' });
      await saveModel(createZeroOReader(3), path.join(dir, 'zero-o-reader'), { architecture: 'zero-o-reader', alphabet: '0O', input: { ...ZERO_O_CROP, channels: 1 } });
      const loaded = await loadModel(dir);
      const reader = await loadZeroOReader(dir, loaded.metadata);
      assert.deepEqual(reader?.inputs[0].shape, [null, ZERO_O_CROP.height, ZERO_O_CROP.width, 1]);
      assert.equal(await loadZeroOReader(dir, metadata), undefined);
      // copied without its subfolder: the model still loads (e.g. to read with --no-second-look); the reader says what to do
      fs.rmSync(path.join(dir, 'zero-o-reader'), { recursive: true });
      await loadModel(dir);
      await assert.rejects(loadZeroOReader(dir, loaded.metadata), /names the 0\/O reader 'zero-o-reader', but .* holds none: copy the model folder with its subfolders.*--no-second-look.*remove zeroOReader/);
      const file = path.join(dir, 'metadata.json');
      fs.writeFileSync(file, JSON.stringify({ ...metadata, zeroOReader: '../elsewhere' }));
      await assert.rejects(loadModel(dir), /zeroOReader "..\/elsewhere".*not the name of a subfolder.*remove it/);
    } finally {
      cleanup();
    }
  });

  it('is loaded only by readings that use it: --no-second-look and --greedy read a folder whose reader is missing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const { openModelReader } = await import('../../src/cli/evaluate');
      await saveModel(logitsModel(4, 4), dir, { architecture: 'crnn', alphabet: ALPHABET, input: { height: 1, width: 4, channels: 1 }, length: 2, zeroOReader: 'zero-o-reader' });
      const quiet = { modelDir: dir, backend: undefined };
      assert.equal((await openModelReader({ ...quiet, secondLook: false })).secondLook, undefined);
      assert.equal((await openModelReader({ ...quiet, greedy: true })).secondLook, undefined);
      await assert.rejects(openModelReader(quiet), /holds none: copy the model folder with its subfolders/);
      await saveModel(createZeroOReader(2), path.join(dir, 'zero-o-reader'), { architecture: 'zero-o-reader', alphabet: '0O', input: { ...ZERO_O_CROP, channels: 1 } });
      const opened = await openModelReader(quiet);
      assert.ok(opened.secondLook && /^[0-9a-f]{16}$/.test(opened.secondLook.weights));
    } finally {
      cleanup();
    }
  });

  it('names reports read without the reader apart', () => {
    const real = { kind: 'folder' as const, dir: 'samples', split: 'all' as const };
    assert.equal(reportFileName(real, false), 'evaluation-samples-all.json');
    assert.equal(reportFileName(real, false, false, true), 'evaluation-samples-all-first-look.json');
  });
});
