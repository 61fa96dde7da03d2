/**
 * How much a `crnn-wide-context` model reads its summary of the whole image (docs/pretrained.md,
 * rule 7). Its first head layer sums two parts: a convolution over each step's own features and
 * one over the summary appended to them. For fresh CAPTCHAs of every (version x size) cell of the
 * matrix, this prints the spread (standard deviation over images and steps, averaged over the
 * layer's units) of each part and their ratio, and what the summary changes in the readings: the
 * same images read again with every image's summary replaced by the batch's mean summary (the
 * head then knows nothing of the image it reads beyond its steps' own features).
 *
 *   node dist/scripts/context-use.js [--model-dir models/pretrained-context] [--count 512] [--seed 6060]
 *
 * The default seed is used for nothing else (not a training, selection or record seed).
 */
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { parseIntArg, startBackend } from '../src/cli/common';
import { DEFAULT_MATRIX_OPTIONS, freshBatches, trainedTextLength } from '../src/eval';
import { ctcConstrainedDecode, ctcIndicesToText, loadModel, textRulesOf } from '../src/models';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'model-dir': { type: 'string', default: 'models/pretrained-context' },
      count: { type: 'string', default: '512' },
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
  // the layers after the summary is appended, applied in order (inference mode)
  const head = model.layers.slice(model.layers.indexOf(model.getLayer('with_context')) + 1);
  const rules = textRulesOf(metadata)!;
  const [kernel] = model.getLayer('head1').getWeights() as [tf.Tensor3D];
  const own = kernel.shape[1] - (model.getLayer('context').getWeights()[0].shape[1] as number);
  console.log('| version x size | step features | summary | ratio | readings changed without the summary | errors with / without |\n|---|---|---|---|---|---|');
  for (const version of DEFAULT_MATRIX_OPTIONS.versions) {
    for (const size of DEFAULT_MATRIX_OPTIONS.sizes) {
      const tally = { own: 0, summary: 0, batches: 0, changed: 0, errors: 0, errorsWithout: 0 };
      const batches = freshBatches({ count, seed, input: metadata.input, imageSize: size, alphabet: metadata.alphabet, length: trainedTextLength(metadata), captchaVersion: version });
      for await (const batch of batches) {
        const x = features.predict(batch.xs) as tf.Tensor3D;
        const [a, b, withSummary, without] = tf.tidy(() => {
          const part = (from: number, width: number) => tf.conv1d(x.slice([0, 0, from], [-1, -1, width]), kernel.slice([0, from, 0], [-1, width, -1]), 1, 'same');
          const spread = (t: tf.Tensor3D) => tf.moments(t, [0, 1]).variance.sqrt().mean().dataSync()[0];
          const summary = x.slice([0, 0, own], [-1, -1, -1]);
          const blind = tf.concat([x.slice([0, 0, 0], [-1, -1, own]), summary.mean(0, true).tile([x.shape[0], 1, 1])], 2);
          const read = (t: tf.Tensor) => head.reduce((h, layer) => layer.apply(h) as tf.Tensor, t);
          return [spread(part(0, own)), spread(part(own, kernel.shape[1] - own)), tf.keep(read(x)), tf.keep(read(blind))];
        });
        const [textsWith, textsWithout] = await Promise.all([withSummary, without].map(async (logits) => ctcIndicesToText(await ctcConstrainedDecode(logits as tf.Tensor3D, rules), metadata.alphabet)));
        tf.dispose([x, withSummary, without, batch.xs, batch.ys ?? []]);
        batch.texts.forEach((truth, i) => {
          tally.changed += textsWith[i] !== textsWithout[i] ? 1 : 0;
          tally.errors += textsWith[i] !== truth ? 1 : 0;
          tally.errorsWithout += textsWithout[i] !== truth ? 1 : 0;
        });
        [tally.own, tally.summary, tally.batches] = [tally.own + a, tally.summary + b, tally.batches + 1];
      }
      const [a, b] = [tally.own / tally.batches, tally.summary / tally.batches];
      console.log(`| ${version} ${size.width}x${size.height} | ${a.toFixed(3)} | ${b.toFixed(4)} | ${(b / a).toFixed(4)} | ${tally.changed} of ${count} | ${tally.errors} / ${tally.errorsWithout} |`);
    }
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
