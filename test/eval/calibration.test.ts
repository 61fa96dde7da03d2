import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { buildProgram } from '../../src/cli/main';
import { batchCalibration, calibrationTables, evaluateModel, fitLogitShift, freshBatches, predictTexts, type CalibrationTable, type TextBatch } from '../../src/eval';
import { loadModel, readModelMetadata, textRulesOf, type LogitShift } from '../../src/models';
import { tempDir, useNativeBackend } from '../helpers';

const SHIPPED = path.join(__dirname, '..', '..', '..', 'models', 'pretrained');
const GRID = Array.from({ length: 17 }, (_, k) => -4 + k * 0.5);
const PAIR = { raise: '0', lower: 'O' };

/** A size whose reading peaks at `best` (1,000 right there, 10 fewer per logit away). */
function peakedTable(width: number, height: number, best: number): CalibrationTable {
  return { width, height, images: 1000, correct: GRID.map((g) => 1000 - 10 * Math.abs(g - best)) };
}

/** A copy of the shipped CRNN's files (without its 0/O reader: calibration alone), to calibrate without touching it. */
function copyShipped(dir: string): string {
  const to = path.join(dir, 'model');
  fs.mkdirSync(to);
  for (const f of ['model.json', 'weights.bin', 'metadata.json']) fs.copyFileSync(path.join(SHIPPED, f), path.join(to, f));
  const meta = JSON.parse(fs.readFileSync(path.join(to, 'metadata.json'), 'utf8'));
  delete meta.logitShift;
  delete meta.zeroOReader;
  fs.writeFileSync(path.join(to, 'metadata.json'), JSON.stringify(meta));
  return to;
}

async function runCli(args: string[]): Promise<string[]> {
  const printed: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => void printed.push(parts.join(' '));
  try {
    await buildProgram().exitOverride().parseAsync(['node', 'captcha-lab', ...args]);
  } finally {
    console.log = log;
  }
  return printed;
}

describe('0/O calibration by image size', function () {
  this.timeout(120_000);
  before(useNativeBackend);

  it('fits the corner shifts at which each size reads best, and the blend between them', () => {
    // 60 px high reads best at -1, 80 px at +2, 70 px halfway (+0.5); width changes nothing
    const tables = [140, 170].flatMap((w) => [peakedTable(w, 60, -1), peakedTable(w, 70, 0.5), peakedTable(w, 80, 2)]);
    const fit = fitLogitShift(tables, { grid: GRID, ...PAIR });
    assert.deepEqual(fit.logitShift, { ...PAIR, widths: [140, 170], heights: [60, 80], shifts: [[-1, -1], [2, 2]] });
    assert.equal(fit.correct, 6000);
    assert.equal(fit.uncalibratedCorrect, 6000 - 10 * (1 + 0.5 + 2) * 2);
    assert.equal(fit.images, 6000);
  });

  it('keeps every shift at 0 when no shift reads more', () => {
    const flat = (w: number, h: number): CalibrationTable => ({ width: w, height: h, images: 10, correct: GRID.map(() => 9) });
    const fit = fitLogitShift([flat(140, 60), flat(170, 80)], { grid: GRID, ...PAIR });
    assert.deepEqual(fit.logitShift.shifts, [[0, 0], [0, 0]]);
    assert.equal(fit.correct, fit.uncalibratedCorrect);
  });

  it('refuses to fit without tables, or on a grid without 0', () => {
    assert.throws(() => fitLogitShift([], { grid: GRID, ...PAIR }), /no calibration tables/);
    assert.throws(() => fitLogitShift([peakedTable(140, 60, 1)], { grid: [1, 2], ...PAIR }), /must hold 0/);
  });

  it('counts, under the shift 0, what evaluate reads without calibration, and under large shifts no O (or no 0)', async () => {
    const { model, metadata } = await loadModel(SHIPPED);
    const rules = textRulesOf(metadata);
    const count = 40;
    const options = { versions: ['0.2.2-pillow4' as const], widths: [140], heights: [80], count, seed: 'calibration-test', grid: [-40, 0, 40], ...PAIR };
    const [table] = await calibrationTables(model, metadata, rules, options);
    assert.equal(table.images, count);
    const batches = freshBatches({ count, seed: 'calibration-test/0.2.2-pillow4/140x80', input: metadata.input, imageSize: { width: 140, height: 80 }, alphabet: metadata.alphabet, length: 4, captchaVersion: '0.2.2-pillow4' });
    const plain = await evaluateModel(model, batches, { alphabet: metadata.alphabet, head: 'ctc', textRules: rules });
    assert.equal(table.correct[1], Math.round(plain.wholeAccuracy * count));
    // +40 favours 0 so much that no O is read: every text holding an O is wrong (and -40 likewise for 0)
    const withO = plain.actual.filter((t) => t.includes('O')).length;
    const withZero = plain.actual.filter((t) => t.includes('0')).length;
    assert.ok(withO > 0 && withZero > 0 && withO !== withZero, `the draw needs texts with O and with 0 (${withO}, ${withZero})`);
    assert.ok(table.correct[2] <= count - withO, `+40: ${table.correct[2]} right, but ${withO} of ${count} texts hold an O`);
    assert.ok(table.correct[0] <= count - withZero, `-40: ${table.correct[0]} right, but ${withZero} of ${count} texts hold a 0`);
    model.dispose();
  });

  it("reads with the shift each image's own size asks for", async () => {
    const { model, metadata } = await loadModel(SHIPPED);
    const rules = textRulesOf(metadata);
    const big = (value: number): LogitShift => ({ ...PAIR, widths: [140, 170], heights: [60, 80], shifts: [[value, value], [-value, -value]] });
    const batches = freshBatches({ count: 60, seed: 'calibration-sizes', input: metadata.input, imageSize: { width: 150, height: 60 }, alphabet: metadata.alphabet, length: 4, captchaVersion: '0.7.1' });
    const batch = (await batches.next()).value as TextBatch;
    await batches.return(undefined);
    // at 60 px high the shift is +40 (0 wins), at 80 px -40 (O wins): only the sizes differ
    const at60 = await predictTexts(model, batch.xs, metadata.alphabet, 'ctc', rules, { logitShift: big(40), sizes: batch.sizes! });
    const at80 = await predictTexts(model, batch.xs, metadata.alphabet, 'ctc', rules, { logitShift: big(40), sizes: batch.sizes!.map(() => ({ width: 150, height: 80 })) });
    assert.ok(batch.texts.some((t) => t.includes('O')) && batch.texts.some((t) => t.includes('0')));
    assert.equal(at60.length, batch.texts.length);
    assert.equal(at80.length, batch.texts.length);
    assert.ok(at60.every((t) => !t.includes('O')), at60.join(' '));
    assert.ok(at80.every((t) => !t.includes('0')), at80.join(' '));
    assert.throws(() => batchCalibration(big(1), {}), /needs the size of each image before fitting/);
    batch.xs.dispose();
    model.dispose();
  });

  it('refuses to read a calibrated model from batches that do not say their image sizes', async () => {
    const { model, metadata } = await loadModel(SHIPPED);
    const fresh = freshBatches({ count: 2, seed: 1, input: metadata.input, alphabet: metadata.alphabet, length: 4, captchaVersion: '0.7.1' });
    async function* sizeless() {
      for await (const b of fresh) yield { xs: b.xs, texts: b.texts };
    }
    const logitShift = { ...PAIR, widths: [140, 170] as [number, number], heights: [60, 80] as [number, number], shifts: [[0, 0], [0, 0]] as [[number, number], [number, number]] };
    await assert.rejects(evaluateModel(model, sizeless(), { alphabet: metadata.alphabet, head: 'ctc', logitShift }), /needs the size of each image before fitting/);
    model.dispose();
  });

  it('calibrate saves the fit in metadata.json, which evaluate then reads with (and --uncalibrated without)', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const model = copyShipped(dir);
      await assert.rejects(runCli(['calibrate', '--count', '1']), /calibrate needs --model-dir <folder>/);
      await runCli(['calibrate', '--model-dir', model, '--count', '1', '--versions', '0.7.1', '--report-only']);
      assert.equal(readModelMetadata(model).logitShift, undefined, '--report-only leaves metadata.json alone');
      assert.ok(fs.existsSync(path.join(model, 'calibration.json')));
      await runCli(['calibrate', '--model-dir', model, '--count', '1', '--versions', '0.7.1']);
      const saved = readModelMetadata(model).logitShift!;
      assert.deepEqual(saved.widths, [140, 170]);
      assert.deepEqual(saved.heights, [60, 80]);
      const report = JSON.parse(fs.readFileSync(path.join(model, 'calibration.json'), 'utf8'));
      assert.equal(report.tables.length, 12);
      assert.deepEqual(report.fit.logitShift, saved);

      await runCli(['evaluate', '--model-dir', model, '--fresh', '4', '--seed', '5']);
      const out = path.join(model, 'evaluation-fresh-4-seed-5-v0.7.0-4ch-calibrated.json');
      assert.match(JSON.parse(fs.readFileSync(out, 'utf8')).decoding, /0\/O calibrated by image size \(shifts \[\[/);
      const plainOut = path.join(dir, 'fresh-plain.json');
      await runCli(['evaluate', '--model-dir', model, '--fresh', '4', '--seed', '5', '--uncalibrated', '--out', plainOut]);
      assert.doesNotMatch(JSON.parse(fs.readFileSync(plainOut, 'utf8')).decoding, /calibrated/);
    } finally {
      cleanup();
    }
  });

  it('a damaged stored shift is refused with the fix', () => {
    const { dir, cleanup } = tempDir();
    try {
      const model = copyShipped(dir);
      const file = path.join(model, 'metadata.json');
      fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), logitShift: { raise: '0', lower: 'O', widths: [170, 140], heights: [60, 80], shifts: [[0, 0], [0, 0]] } }));
      assert.throws(() => readModelMetadata(model), /logitShift that cannot be used \(widths must be two sizes in px, smaller first.*remove logitShift from it to read without calibration/);
    } finally {
      cleanup();
    }
  });
});
