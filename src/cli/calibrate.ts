/**
 * `captcha-lab calibrate`: fits a CTC model's 0-against-O calibration by image size on fresh
 * calibration CAPTCHAs and saves it in the model's metadata.json, which predict, evaluate, matrix
 * and the demo then read with (see src/models/logit-shift.ts for why).
 */
import * as fs from 'fs';
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
    .option('--model-dir <dir>', 'saved CTC model (default models/pretrained)')
    .option('--versions <list>', `lepture versions drawn (default ${d.versions.join(',')})`, parseVersionListArg('versions'))
    .option('--count <n>', `fresh images per version and size (default ${d.count}; sizes ${d.widths.join('/')} x ${d.heights.join('/')} px)`, parseIntArg('count', 1))
    .option('--seed <text>', `seed of the calibration images (default '${d.seed}': no training run or test set uses it)`)
    .option('--dry-run', 'fit and print, but leave metadata.json as it is');
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    // the fit reads the raw output: no calibration the model already has
    const { modelDir, model, metadata, head, textRules } = await openModelReader({ ...opts, uncalibrated: true });
    if (head !== 'ctc') throw new Error(`${metadata.architecture} reads one character per head, not CTC: calibrate works on CTC models (crnn, crnn-wide)`);
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
    log(`calibration images read right: ${pct(fit.uncalibratedCorrect / fit.images)} unshifted, ${pct(fit.correct / fit.images)} calibrated (${fit.images} images)`);
    if (opts.dryRun) return;
    const metadataFile = path.join(modelDir, 'metadata.json');
    const saved = JSON.parse(fs.readFileSync(metadataFile, 'utf8')) as Record<string, unknown>;
    writeFileAtomic(path.join(modelDir, 'calibration.json'), JSON.stringify({ options, fit, tables }, null, 1));
    writeFileAtomic(metadataFile, `${JSON.stringify({ ...saved, logitShift: fit.logitShift }, null, 2)}\n`);
    log(`saved in ${metadataFile} (logitShift; read without it: --uncalibrated) and ${path.join(modelDir, 'calibration.json')}`);
  });
}
