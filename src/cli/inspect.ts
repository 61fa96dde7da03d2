/** `captcha-lab inspect`: per-layer activation statistics of a saved model (dead ReLUs, signal). */
import { Command } from 'commander';
import { listLabeledFiles } from '../data/labeled-files';
import { activationStats, formatActivationStats } from '../eval';
import { fileBatches } from '../eval/image-batches';
import { loadModel } from '../models';
import { addBackendOptions, parseIntArg, startBackend } from './common';
import { resolveModelDir } from './evaluate';

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description('per-layer activations of a saved model on some images: dead ReLU layers, signal strength')
    .requiredOption('--data-dir <dir>', 'labelled images (dataset folder or folder with labels.csv)')
    .option('--model-dir <dir>', 'saved model or checkpoint folder (default models/pretrained)')
    .option('--images <n>', 'images to run through the model', parseIntArg('images'), 32);
  addBackendOptions(cmd).action(async (opts) => {
    await startBackend(opts);
    const { model, metadata } = await loadModel(resolveModelDir(opts.modelDir));
    const files = listLabeledFiles(opts.dataDir, metadata.alphabet).slice(0, opts.images);
    const first = await fileBatches(files, metadata.input, files.length).next();
    if (first.done) throw new Error(`no images in '${opts.dataDir}'`);
    console.log(formatActivationStats(await activationStats(model, first.value.xs)));
    first.value.xs.dispose();
  });
}
