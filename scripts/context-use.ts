/**
 * How much a `crnn-wide-context` model reads its summary of the whole image (docs/pretrained.md,
 * rule 7). Its first head layer sums two parts: a convolution over each step's own features and
 * one over the summary appended to them. For fresh CAPTCHAs of every (version x size) cell of the
 * matrix, this prints the spread (standard deviation over images and steps, averaged over the
 * layer's units) of each part and their ratio: near 0, the head reads as if it had no summary.
 *
 *   node dist/scripts/context-use.js [--model-dir models/pretrained-context] [--count 256] [--seed 6060]
 *
 * The default seed is used for nothing else (not a training, selection or record seed).
 */
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { parseIntArg, startBackend } from '../src/cli/common';
import { DEFAULT_MATRIX_OPTIONS, freshBatches, trainedTextLength } from '../src/eval';
import { loadModel } from '../src/models';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'model-dir': { type: 'string', default: 'models/pretrained-context' },
      count: { type: 'string', default: '256' },
      seed: { type: 'string', default: '6060' },
    },
  });
  const count = parseIntArg('--count', 1)(values.count!);
  const seed = parseIntArg('--seed')(values.seed!);
  await startBackend({});
  const { model, metadata } = await loadModel(values['model-dir']!);
  const names = model.layers.map((l) => l.name);
  if (!names.includes('with_context') || !names.includes('head1')) {
    throw new Error(`${values['model-dir']} holds a '${metadata.architecture}' model without a whole-image summary; pass a crnn-wide-context model`);
  }
  const features = tf.model({ inputs: model.inputs, outputs: model.getLayer('with_context').output as tf.SymbolicTensor });
  const [kernel] = model.getLayer('head1').getWeights() as [tf.Tensor3D];
  const own = kernel.shape[1] - (model.getLayer('context').getWeights()[0].shape[1] as number);
  console.log('| version x size | step features | summary | ratio |\n|---|---|---|---|');
  for (const version of DEFAULT_MATRIX_OPTIONS.versions) {
    for (const size of DEFAULT_MATRIX_OPTIONS.sizes) {
      const spreads = { own: 0, summary: 0, batches: 0 };
      const batches = freshBatches({ count, seed, input: metadata.input, imageSize: size, alphabet: metadata.alphabet, length: trainedTextLength(metadata), captchaVersion: version });
      for await (const batch of batches) {
        const [a, b] = tf.tidy(() => {
          const x = features.predict(batch.xs) as tf.Tensor3D;
          const part = (from: number, size: number) =>
            tf.conv1d(x.slice([0, 0, from], [-1, -1, size]), kernel.slice([0, from, 0], [-1, size, -1]), 1, 'same');
          const spread = (t: tf.Tensor3D) => tf.moments(t, [0, 1]).variance.sqrt().mean().dataSync()[0];
          return [spread(part(0, own)), spread(part(own, kernel.shape[1] - own))];
        });
        tf.dispose([batch.xs, batch.ys ?? []]);
        [spreads.own, spreads.summary, spreads.batches] = [spreads.own + a, spreads.summary + b, spreads.batches + 1];
      }
      const [a, b] = [spreads.own / spreads.batches, spreads.summary / spreads.batches];
      console.log(`| ${version} ${size.width}x${size.height} | ${a.toFixed(3)} | ${b.toFixed(4)} | ${(b / a).toFixed(4)} |`);
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
