/** `captcha-lab inspect`: per-layer activation statistics of a saved model (dead ReLUs, signal). */
import { Command } from 'commander';
import { activationStats, formatActivationStats } from '../eval';
import { fileBatches } from '../eval/image-batches';
import { loadModel } from '../models';
import { addBackendOptions, checkLabeledFolder, listLabeledImages, parseIntArg, startBackend } from './common';
import { DEFAULT_MODEL_DIR, resolveModelDir } from './evaluate';

export function register(program: Command): void {
  const cmd = program
    .command('inspect')
    .description('per-layer activations of a saved model on some images: dead ReLU layers, signal strength')
    .requiredOption('--data-dir <dir>', 'labelled images (dataset folder or folder with labels.csv)')
    .option('--model-dir <dir>', `saved model or checkpoint folder (default ${DEFAULT_MODEL_DIR})`)
    .option('--images <n>', 'images (>= 1) to run through the model: the first n of the folder', parseIntArg('images', 1), 32);
  addBackendOptions(cmd).action(async (opts) => {
    checkLabeledFolder(opts.dataDir);
    const modelDir = resolveModelDir(opts.modelDir);
    await startBackend(opts);
    const { model, metadata } = await loadModel(modelDir);
    const files = listLabeledImages(opts.dataDir, metadata.alphabet).slice(0, opts.images);
    const first = await fileBatches(files, metadata.input, files.length).next();
    if (first.done) throw new Error(`no images in '${opts.dataDir}'`); // listLabeledImages returned some
    console.log(formatActivationStats(await activationStats(model, first.value.xs)));
    first.value.xs.dispose();
  });
}
