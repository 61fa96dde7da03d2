/**
 * `captcha-lab calibrate`: fits a CTC model's 0-against-O calibration by image size on fresh
 * calibration CAPTCHAs and saves it in the model's metadata.json, which predict, evaluate, matrix
 * and the demo then read with (see src/models/logit-shift.ts for why).
 */
import * as path from 'path';
import { Command } from 'commander';
import { writeFileAtomic } from '../files';
import { calibrationTables, DEFAULT_CALIBRATION_OPTIONS, fitLogitShift, type CalibrationOptions } from '../eval';
import { addBackendOptions, parseIntArg, parseVersionListArg, pct, stageLogger } from './common';
import { openModelReader } from './evaluate';

export function register(program: Command): void {
  const d = DEFAULT_CALIBRATION_OPTIONS;
  const cmd = program
    .command('calibrate')
    .description("fit a CTC model's 0-against-O calibration by image size on fresh CAPTCHAs and save it in its metadata.json")
    .option('--model-dir <dir>', 'saved CTC model whose metadata.json gets the fit (e.g. a copy of models/pretrained)')
    .option('--versions <list>', `lepture versions drawn (default ${d.versions.join(',')})`, parseVersionListArg('versions'))
    .option('--count <n>', `fresh images per version and size (default ${d.count}; sizes ${d.widths.join('/')} x ${d.heights.join('/')} px)`, parseIntArg('count', 1))
    .option('--seed <text>', `seed of the calibration images (default '${d.seed}': no training run or test set uses it)`)
    .option('--report-only', 'write the fit to calibration.json only, leaving metadata.json (and so every reading) as it is');
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    // no default: a bare `calibrate` must not change the shipped model by accident
    if (!opts.modelDir) throw new Error('calibrate needs --model-dir <folder>: the model whose metadata.json gets the fit (calibrate a copy of models/pretrained, not the shipped model itself)');
    // the fit reads the raw output: no calibration the model already has
    const { modelDir, model, metadata, head, textRules } = await openModelReader({ ...opts, uncalibrated: true });
    if (head !== 'ctc') throw new Error(`${metadata.architecture} reads one character per head, not CTC: calibrate works on CTC models (crnn, crnn-wide)`);
    const missing = [d.raise, d.lower].filter((c) => !metadata.alphabet.includes(c));
    if (missing.length) throw new Error(`the model's alphabet '${metadata.alphabet}' lacks ${missing.map((c) => `'${c}'`).join(' and ')}: there is no ${d.raise}/${d.lower} confusion to calibrate`);
    const options: CalibrationOptions = {
      ...d,
      versions: opts.versions ?? d.versions,
      count: opts.count ?? d.count,
      seed: opts.seed ?? d.seed,
    };
    const sizes = options.widths.length * options.heights.length;
    log(`reading ${options.count} fresh CAPTCHAs of ${options.versions.length} versions at ${sizes} sizes (seed '${options.seed}') under ${options.grid.length} shifts`);
    const tables = await calibrationTables(model, metadata, textRules, options, (t) => {
      const zero = options.grid.indexOf(0);
      log(`${t.width}x${t.height}: ${pct(t.correct[zero] / t.images)} unshifted, ${pct(Math.max(...t.correct) / t.images)} at the best shift for this size`);
    });
    const fit = fitLogitShift(tables, options);
    const { shifts, widths, heights } = fit.logitShift;
    log(`fitted shifts (${options.raise} against ${options.lower}): ${JSON.stringify(shifts)} at widths ${widths.join(', ')} and heights ${heights.join(', ')} px`);
    log(
      `calibration images read right: ${pct(fit.uncalibratedCorrect / fit.images)} unshifted, about ${pct(fit.correct / fit.images)} calibrated ` +
        `(${fit.images} images; the calibrated figure is estimated on the same images, so test it on others: matrix --seed 31337)`,
    );
    const report = path.join(modelDir, 'calibration.json');
    writeFileAtomic(report, JSON.stringify({ options, fit, tables }, null, 1));
    if (opts.reportOnly) {
      log(`fit written to ${report}; metadata.json left as it was (--report-only)`);
      return;
    }
    // `metadata` is the file as read when the model was loaded (every key kept)
    const metadataFile = path.join(modelDir, 'metadata.json');
    writeFileAtomic(metadataFile, `${JSON.stringify({ ...metadata, logitShift: fit.logitShift }, null, 2)}\n`);
    log(`saved in ${metadataFile} (logitShift; read without it: --uncalibrated) and ${report}`);
  });
}
