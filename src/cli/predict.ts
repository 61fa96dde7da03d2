/** `captcha-lab predict`: the text of each image file (or every image of a folder). */
import { Command } from 'commander';
import { checkImageFile } from '../data/image-file';
import { expandImagePaths } from '../data/labeled-files';
import { fileBatches } from '../eval/image-batches';
import { batchCalibration, batchSecondLook, predictTexts } from '../eval';
import { addBackendOptions } from './common';
import { DEFAULT_MODEL_DIR, openModelReader } from './evaluate';

export function register(program: Command): void {
  const cmd = program
    .command('predict')
    .description('read CAPTCHA images with a saved model and print their text')
    .argument('<paths...>', "image files (.png, .jpg; whole, at most 16.8 megapixels, at least a quarter of the model's input per side) or folders of them")
    .option('--model-dir <dir>', `saved model (default ${DEFAULT_MODEL_DIR})`)
    .option('--greedy', 'CTC models: greedy decoding, any length and repeats, not only texts like the training texts (and no 0/O calibration)')
    .option('--uncalibrated', "CTC models: ignore the model's 0/O calibration by image size (metadata logitShift)")
    .option('--no-second-look', "CTC models: read without the model's second look at 0/O (metadata zeroOReader)");
  addBackendOptions(cmd).action(async (paths: string[], opts) => {
    const { model, metadata, head, textRules, logitShift, secondLook } = await openModelReader(opts);
    const files = expandImagePaths(paths).map((file) => ({ file, label: '' }));
    // Every file is checked (PNG/JPEG, not too big or too small for the model, whole) before the
    // first answer, so a bad file stops the run by name before any output rather than midway.
    for (const { file } of files) checkImageFile(file, { input: metadata.input });
    let i = 0;
    for await (const batch of fileBatches(files, metadata.input)) {
      const texts = await predictTexts(model, batch.xs, metadata.alphabet, head, textRules, batchCalibration(logitShift, batch), batchSecondLook(secondLook, batch));
      batch.xs.dispose();
      for (const text of texts) console.log(`${files[i++].file}\t${text}`);
    }
  });
}
