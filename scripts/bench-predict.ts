/**
 * Test-time cost: images/s of `captcha-lab predict` on PNG files of every matrix cell's version
 * and size (file decoding, resizing, the model and decoding; the model's loading excluded), and
 * images/s of the model and decoding alone on one ready batch of those images (no file work). `npm run bench:predict` pins the process to
 * one core with `taskset -c 0` (Linux), which also limits TensorFlow's threads to that core.
 *
 *   npm run bench:predict [-- --model-dir models/pretrained --count 800 --no-second-look]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { encode } from '../src/captcha';
import { createCaptchaStream } from '../src/data';
import { batchCalibration, batchSecondLook, DEFAULT_MATRIX_OPTIONS, decodingRules, logitShiftOf, predictTexts, type TextBatch } from '../src/eval';
import { fileBatches } from '../src/eval/image-batches';
import { getModelSpec, loadModel } from '../src/models';
import { secondLookOf } from '../src/cli/evaluate';
import { startBackend } from '../src/cli/common';

function parseArgs(argv: string[]): { modelDir: string; count: number; secondLook: boolean } {
  const args = { modelDir: path.join('models', 'pretrained'), count: 800, secondLook: true };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--model-dir') args.modelDir = argv[i + 1];
    else if (argv[i] === '--count') args.count = Number(argv[i + 1]);
    else if (argv[i] === '--no-second-look') [args.secondLook, i] = [false, i - 1];
    else throw new Error(`unknown argument '${argv[i]}'; use --model-dir DIR --count N --no-second-look`);
  }
  if (!Number.isInteger(args.count) || args.count < 16) throw new Error(`--count must be a whole number >= 16, got ${args.count}`);
  return args;
}

/** PNG files spread evenly over the matrix cells (version x size), in a temporary folder. */
async function writeCellImages(dir: string, count: number): Promise<string[]> {
  const { versions, sizes } = DEFAULT_MATRIX_OPTIONS;
  const cells = versions.flatMap((version) => sizes.map((size) => ({ version, ...size })));
  const per = Math.ceil(count / cells.length);
  const files: string[] = [];
  for (const [c, cell] of cells.entries()) {
    const stream = createCaptchaStream({ batchSize: per, seed: `bench-predict/${c}`, workers: 0, captcha: cell });
    const b = await stream.next();
    await stream.close();
    const n = b.width * b.height * 3;
    for (let i = 0; i < per && files.length < count; i++) {
      const file = path.join(dir, `${c}-${i}.png`);
      fs.writeFileSync(file, encode({ width: b.width, height: b.height, data: b.pixels.subarray(i * n, (i + 1) * n) }, 'png'));
      files.push(file);
    }
  }
  return files;
}

async function main(): Promise<void> {
  const { modelDir, count, secondLook: useReader } = parseArgs(process.argv.slice(2));
  const backend = await startBackend({});
  const { model, metadata } = await loadModel(modelDir);
  const head = getModelSpec(metadata.architecture).head;
  const textRules = decodingRules(metadata, head, false);
  const logitShift = logitShiftOf(metadata, head);
  const secondLook = useReader ? await secondLookOf(modelDir, metadata, head, textRules) : undefined;
  // As predict reads files: with the model's 0/O calibration and second look, when it has them.
  const readBatch = (b: TextBatch) =>
    predictTexts(model, b.xs, metadata.alphabet, head, textRules, batchCalibration(logitShift, b), batchSecondLook(secondLook, b));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'captcha-lab-bench-predict-'));
  try {
    const files = await writeCellImages(dir, count);
    // warm-up: the first call builds the kernels; its batch (64 real CAPTCHAs spread over every cell:
    // files are written cell after cell) is kept for timing the model alone (a blank batch would time
    // the decoder's search for distinct texts instead)
    const step = Math.max(1, Math.floor(files.length / 64));
    const spread = files.filter((_, i) => i % step === 0).slice(0, 64);
    const warm = await fileBatches(spread.map((file) => ({ file, label: '' })), metadata.input).next();
    const ready = warm.value as TextBatch;
    await readBatch(ready);

    let start = performance.now();
    let done = 0;
    for await (const b of fileBatches(files.map((file) => ({ file, label: '' })), metadata.input)) {
      done += (await readBatch(b)).length;
      b.xs.dispose();
    }
    const filesSeconds = (performance.now() - start) / 1000;

    const { height, width, channels } = metadata.input;
    const rounds = Math.max(2, Math.round(count / ready.texts.length));
    start = performance.now();
    for (let r = 0; r < rounds; r++) await readBatch(ready);
    const modelSeconds = (performance.now() - start) / 1000;
    ready.xs.dispose();

    const result = {
      model: modelDir,
      architecture: metadata.architecture,
      secondLook: secondLook !== undefined,
      input: `${width}x${height}x${channels}`,
      backend: backend.tfBackend,
      cpusVisible: os.availableParallelism(),
      files: done,
      predictImagesPerSecond: done / filesSeconds,
      modelImagesPerSecond: (rounds * ready.texts.length) / modelSeconds,
    };
    console.log(
      `predict${secondLook ? ' (with the second look at 0/O)' : ''} on ${done} PNG files of ${DEFAULT_MATRIX_OPTIONS.versions.length * DEFAULT_MATRIX_OPTIONS.sizes.length} version x size cells, ` +
        `${result.cpusVisible} core(s) visible: ${result.predictImagesPerSecond.toFixed(1)} images/s (files decoded and resized); ` +
        `the model and decoding alone on a ready batch of ${ready.texts.length} real CAPTCHAs: ${result.modelImagesPerSecond.toFixed(1)} images/s`,
    );
    console.log(JSON.stringify(result));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    tf.disposeVariables();
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
