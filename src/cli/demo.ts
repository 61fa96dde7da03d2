/**
 * `captcha-lab demo` (the README's main job): the whole pipeline on a small scale, on a fresh
 * machine, in a few minutes:
 *   1. pick the backend, 2. generate a small dataset of the original experiment's CAPTCHAs,
 *   3. train a network briefly, 4. evaluate it on the held-out 10%, and
 *   5. read freshly generated CAPTCHAs (each version and common size it was trained on) and the real-library sample with the pretrained model.
 * Step 3 trains `bench` by default, a small CNN (three 3x3 convolutions with batch normalisation
 * and pooling, four heads) that reads the 2017 images far above chance within two minutes on two
 * cores (34.5% per character after one pass over 18,000 images, against 1/36 = 2.8%). The 2017
 * networks need more: `seed-bn` (`--model seed-bn`) stayed at chance for 15,000 images, and the
 * original `seed` (`--model seed`) leaves the plateau after ~38,000 images for a lucky seed only
 * (docs/replication.md).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { listLabeledFiles } from '../data/labeled-files';
import { decodingRules, logitShiftOf, evaluateModel, formatReport, trainedTextLength } from '../eval';
import { fileBatches } from '../eval/image-batches';
import { freshBatches } from '../eval/fresh';
import { getModelSpec, loadModel, readModelMetadata } from '../models';
import { addBackendOptions, parseIntArg, pct, stageLogger, startBackend } from './common';
import { DEFAULT_MODEL_DIR, secondLookOf, trainedImageKinds } from './evaluate';
import { runGenerate } from './generate';
import { runTrainCommand } from './train';

/** The real-library sample shipped beside the repository (see shared/reference). */
export const REFERENCE_SAMPLE = path.join('..', 'shared', 'reference', 'lepture-160x60-sample');

/** The demo's training: a few minutes on two cores. */
export const DEMO_MODEL = 'bench';
export const DEMO_COUNT = 12000;
export const DEMO_EPOCHS = 2;

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description('generate, train, evaluate and predict on a small scale (the README main job)')
    .option('--count <n>', 'images (>= 2) to generate for the short training', parseIntArg('count', 1), DEMO_COUNT)
    .option('--epochs <n>', 'epochs (>= 1) of the short training', parseIntArg('epochs', 1), DEMO_EPOCHS)
    .option('--model <name>', `network to train: ${DEMO_MODEL} (a small CNN that learns in minutes), seed-bn (the 2017 network with batch normalisation, needs more than 15,000 images) or seed (the original 2017 network)`, DEMO_MODEL)
    .option('--data-dir <dir>', 'where the demo dataset goes', path.join('data', 'demo'))
    .option('--model-dir <dir>', 'pretrained model to demonstrate (step 5 is skipped when the default one is absent)', DEFAULT_MODEL_DIR);
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    // a model asked for by name is checked now, not after minutes of generating and training
    if (cmd.getOptionValueSource('modelDir') === 'cli') readModelMetadata(opts.modelDir);
    getModelSpec(opts.model); // an unknown name fails now, not after generating
    if (opts.count < 2) throw new Error(`--count ${opts.count} is too few: training needs at least 2 images (one held out); pass --count 2 or more`);
    const backend = await startBackend(opts);
    log(`1. backend: ${backend.tfBackend} (${backend.package})`);

    log(`2. generating ${opts.count} CAPTCHAs of 170x80 like the original experiment`);
    await runGenerate({ out: opts.dataDir, count: opts.count, seed: 'demo', captcha: { width: 170, height: 80 } });

    const what = {
      seed: 'the original network',
      'seed-bn': 'seed-bn (the original network with batch normalisation)',
      bench: 'a small CNN (3 conv + batch-norm layers, four heads)',
    }[opts.model as string] ?? opts.model;
    log(`3. training ${what} for ${opts.epochs} epoch(s) (the 2017 run: 46,080 images x 3 epochs)`);
    // The model reads the images at their own size (170x80), whatever its default input. models/demo
    // is the demo's own run, replaced each time: --overwrite's way, so a train of that run still
    // running keeps its folder (it is locked) and a demo stopped in epoch 1 keeps the last one.
    const { record, interrupted, stopped } = await runTrainCommand({ run: 'demo', model: opts.model, dataDir: opts.dataDir, epochs: opts.epochs, width: 170, height: 80 }, { overwrite: true });
    if (interrupted || stopped) {
      log(`stopped during training; \`captcha-lab train --run demo --resume\` trains on, and the demo runs whole when started again`);
      process.exitCode = 1;
      return;
    }

    log('4. evaluating on the held-out 10%');
    const last = record.history[record.history.length - 1];
    log(`   character ${pct(last.valCharacterAccuracy)} (chance: ${pct(1 / record.config.alphabet.length)}), whole image ${pct(last.valWholeAccuracy)}, ` +
      `${last.imagesPerSecond.toFixed(1)} training images/s` +
      (opts.model === 'seed' ? ' (the original network needs far longer to leave chance: docs/replication.md)' : ''));

    if (!fs.existsSync(path.join(opts.modelDir, 'model.json'))) {
      log(`5. no pretrained model in ${opts.modelDir}; skipping the prediction demo`);
      return;
    }
    const { model, metadata } = await loadModel(opts.modelDir);
    const head = getModelSpec(metadata.architecture).head;
    const textRules = decodingRules(metadata, head);
    const logitShift = logitShiftOf(metadata, head);
    const secondLook = await secondLookOf(opts.modelDir, metadata, head, textRules);
    // As many of each kind the model was trained on (versions x common sizes) as 12 allow, at least one each.
    const kinds = trainedImageKinds(opts.modelDir, metadata.input);
    const each = Math.max(1, Math.floor(12 / kinds.length));
    log(`5. reading fresh CAPTCHAs with the pretrained ${metadata.architecture} model from ${opts.modelDir} (${metadata.input.width}x${metadata.input.height} input; other sizes are ${metadata.input.fit === 'letterbox' ? 'letterboxed into it (one scale both ways, padded white)' : 'resized to it'}, as predict does)`);
    const seed = `demo-${Date.now()}`; // new texts every run; printed, so a surprising reading can be drawn again
    log(`   fresh CAPTCHAs of seed '${seed}' (one seed per kind: '${seed}/<k>')`);
    for (const [k, kind] of kinds.entries()) {
      const fresh = await evaluateModel(
        model,
        // a seed per kind: the same seed would draw the same texts in every kind
        freshBatches({ count: each, seed: `${seed}/${k}`, input: metadata.input, imageSize: kind, alphabet: metadata.alphabet, length: trainedTextLength(metadata), captchaVersion: kind.version }),
        { alphabet: metadata.alphabet, head, textRules, logitShift, secondLook },
      );
      const label = `v${kind.version} ${kind.width}x${kind.height}`.padEnd(22);
      fresh.actual.forEach((t, i) => console.log(`   ${label} true ${t}  predicted ${fresh.predictions[i]}${t === fresh.predictions[i] ? '' : '   <- misread'}`));
    }
    if (fs.existsSync(REFERENCE_SAMPLE)) {
      const files = listLabeledFiles(REFERENCE_SAMPLE, metadata.alphabet);
      const real = await evaluateModel(model, fileBatches(files, metadata.input), { alphabet: metadata.alphabet, head, textRules, logitShift, secondLook });
      log(`   on the ${files.length} images made by the real Python library:`);
      console.log(formatReport(real).replace(/^/gm, '   '));
    }
  });
}
