/** `captcha-lab robustness`: accuracy of a saved model on fresh CAPTCHAs shifted by a pixel or two, or scaled. */
import { Command } from 'commander';
import { DEFAULT_IMAGE_VIEWS, evaluateViews } from '../eval';
import { freshBatches } from '../eval/fresh';
import { pct } from '../eval/metrics';
import { getModelSpec, loadModel } from '../models';
import { addBackendOptions, parseIntArg, stageLogger, startBackend } from './common';
import { decodingRules, DEFAULT_MODEL_DIR, resolveModelDir } from './evaluate';

export function register(program: Command): void {
  const cmd = program
    .command('robustness')
    .description('score a saved model on fresh CAPTCHAs as generated, shifted by 1-2 px and scaled by 5%')
    .option('--model-dir <dir>', `saved model (default ${DEFAULT_MODEL_DIR})`)
    .option('--fresh <n>', 'number of fresh CAPTCHAs', parseIntArg('fresh', 1), 2000)
    .option('--seed <n>', 'seed of the fresh CAPTCHAs (default 424242: not a training seed)', parseIntArg('seed'), 424242)
    .option('--greedy', 'CTC models: greedy decoding, any length and repeats');
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    await startBackend(opts);
    const modelDir = resolveModelDir(opts.modelDir);
    const { model, metadata } = await loadModel(modelDir);
    const head = getModelSpec(metadata.architecture).head;
    const { alphabet, input } = metadata;
    log(`reading ${opts.fresh} fresh CAPTCHAs (seed ${opts.seed}) ${DEFAULT_IMAGE_VIEWS.length} ways with ${modelDir}`);
    const batches = freshBatches({ count: opts.fresh, seed: opts.seed, input, alphabet, length: Number(metadata.length ?? 4), captchaVersion: '0.7.0' });
    const rows = await evaluateViews(model, batches, { alphabet, head, textRules: decodingRules(metadata, head, Boolean(opts.greedy)) });
    console.log('view            whole-image  character');
    for (const r of rows) console.log(`${r.view.padEnd(16)}${pct(r.wholeAccuracy).padStart(11)}${pct(r.characterAccuracy).padStart(11)}`);
  });
}
