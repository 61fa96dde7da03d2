/** `captcha-lab robustness`: accuracy of a saved model on fresh CAPTCHAs shifted by a pixel or two, or scaled. */
import { Command, Option } from 'commander';
import { CAPTCHA_VERSIONS } from '../captcha';
import { DEFAULT_IMAGE_VIEWS, evaluateViewsOnFresh } from '../eval';
import { loadModel } from '../models';
import { addBackendOptions, parseIntArg, pct, stageLogger, startBackend } from './common';
import { DEFAULT_MODEL_DIR, resolveModelDir, trainedCaptchaVersion } from './evaluate';

export function register(program: Command): void {
  const cmd = program
    .command('robustness')
    .description('score a saved model on fresh CAPTCHAs as generated, shifted by 1-2 px and scaled by 5%')
    .option('--model-dir <dir>', `saved model (default ${DEFAULT_MODEL_DIR})`)
    .option('--fresh <n>', 'number of fresh CAPTCHAs', parseIntArg('fresh', 1), 2000)
    .option('--seed <n>', 'seed of the fresh CAPTCHAs (default 424242: not a training seed)', parseIntArg('seed'), 424242)
    .addOption(new Option('--captcha-version <v>', "generator algorithm of the fresh CAPTCHAs (default: the model's training images')").choices(CAPTCHA_VERSIONS))
    .option('--greedy', 'CTC models: greedy decoding, any length and repeats');
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    await startBackend(opts);
    const modelDir = resolveModelDir(opts.modelDir);
    const loaded = await loadModel(modelDir);
    const captchaVersion = opts.captchaVersion ?? trainedCaptchaVersion(modelDir);
    log(`reading ${opts.fresh} fresh CAPTCHAs (seed ${opts.seed}, v${captchaVersion}) ${DEFAULT_IMAGE_VIEWS.length} ways with ${modelDir}`);
    // The views move the model's input, not the original image the second look reads from.
    const leftOut = [loaded.metadata.zeroOReader !== undefined && 'its second look at 0/O', loaded.metadata.logitShift !== undefined && 'its 0/O calibration'].filter(Boolean);
    if (leftOut.length > 0) log(`read by the network alone, without ${leftOut.join(' and ')} (captcha-lab matrix and evaluate read with it)`);
    const rows = await evaluateViewsOnFresh(loaded, { count: opts.fresh, seed: opts.seed, greedy: Boolean(opts.greedy), captchaVersion });
    console.log('view            whole-image  character');
    for (const r of rows) console.log(`${r.view.padEnd(16)}${pct(r.wholeAccuracy).padStart(11)}${pct(r.characterAccuracy).padStart(11)}`);
  });
}
