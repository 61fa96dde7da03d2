import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { buildProgram } from '../../src/cli/main';
import { calibrationTables, evaluateModel, fitLogitShift, freshBatches, type CalibrationTable } from '../../src/eval';
import { loadModel, readModelMetadata, textRulesOf } from '../../src/models';
import { tempDir, useNativeBackend } from '../helpers';

const SHIPPED = path.join(__dirname, '..', '..', '..', 'models', 'pretrained');
const GRID = Array.from({ length: 17 }, (_, k) => -4 + k * 0.5);
const PAIR = { raise: '0', lower: 'O' };

/** A size whose reading peaks at `best` (1,000 right there, 10 fewer per logit away). */
function peakedTable(width: number, height: number, best: number): CalibrationTable {
  return { width, height, images: 1000, correct: GRID.map((g) => 1000 - 10 * Math.abs(g - best)) };
}

/** A copy of the shipped model's files, to calibrate without touching it. */
function copyShipped(dir: string): string {
  const to = path.join(dir, 'model');
  fs.mkdirSync(to);
  for (const f of ['model.json', 'weights.bin', 'metadata.json']) fs.copyFileSync(path.join(SHIPPED, f), path.join(to, f));
  const meta = JSON.parse(fs.readFileSync(path.join(to, 'metadata.json'), 'utf8'));
  delete meta.logitShift;
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

  it('counts, under the shift 0, exactly what evaluate reads without calibration', async () => {
    const { model, metadata } = await loadModel(SHIPPED);
    const rules = textRulesOf(metadata);
    const options = { versions: ['0.2.2-pillow4' as const], widths: [140], heights: [80], count: 6, seed: 'calibration-test', grid: [-2, 0, 2], ...PAIR };
    const [table] = await calibrationTables(model, metadata, rules, options);
    assert.equal(table.images, 6);
    const batches = freshBatches({ count: 6, seed: 'calibration-test/0.2.2-pillow4/140x80', input: metadata.input, imageSize: { width: 140, height: 80 }, alphabet: metadata.alphabet, length: 4, captchaVersion: '0.2.2-pillow4' });
    const plain = await evaluateModel(model, batches, { alphabet: metadata.alphabet, head: 'ctc', textRules: rules });
    assert.equal(table.correct[1], Math.round(plain.wholeAccuracy * 6));
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
      await runCli(['calibrate', '--model-dir', model, '--count', '1', '--versions', '0.7.1']);
      const saved = readModelMetadata(model).logitShift!;
      assert.deepEqual(saved.widths, [140, 170]);
      assert.deepEqual(saved.heights, [60, 80]);
      const report = JSON.parse(fs.readFileSync(path.join(model, 'calibration.json'), 'utf8'));
      assert.equal(report.tables.length, 12);
      assert.deepEqual(report.fit.logitShift, saved);

      const out = path.join(dir, 'fresh.json');
      await runCli(['evaluate', '--model-dir', model, '--fresh', '4', '--seed', '5', '--out', out]);
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
      assert.throws(() => readModelMetadata(model), /logitShift that cannot be used \(widths must be two sizes in px, smaller first.*captcha-lab calibrate --model-dir/);
    } finally {
      cleanup();
    }
  });
});
