/**
 * Would two models that fit images differently read more together? Each reads the same fresh
 * CAPTCHAs (fitted its own way), and where they disagree the text with the smaller summed CTC
 * loss under both models wins (their frames do not line up, so probabilities cannot be averaged).
 * Prints, per (version x size) cell: each model alone, the oracle (either right) and the
 * rescored pair, each model with its text rules and without a 0/O calibration. Use a seed no test
 * set uses.
 *
 *   node dist/scripts/two-model-study.js [--models models/pretrained,models/pretrained-mix] [--count 500] [--seed ensemble-study]
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_MATRIX_OPTIONS, freshBatches, trainedTextLength, type TextBatch } from '../src/eval';
import { ctcConstrainedDecode, ctcIndicesToText, ctcLoss, loadModel, textRulesOf, textsToCtcLabels, type LoadedModel } from '../src/models';
import { startBackend } from '../src/cli/common';

function parseArgs(argv: string[]): { models: [string, string]; count: number; seed: string } {
  const args = { models: ['models/pretrained', 'models/pretrained-mix'] as [string, string], count: 500, seed: 'ensemble-study' };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (argv[i] === '--models' && v?.split(',').length === 2) args.models = v.split(',') as [string, string];
    else if (argv[i] === '--count' && Number(v) > 0) args.count = Number(v);
    else if (argv[i] === '--seed' && v) args.seed = v;
    else throw new Error(`bad argument '${argv[i]} ${v ?? ''}'; see the comment at the top of scripts/two-model-study.ts (two models, a positive count)`);
  }
  return args;
}

/** Texts and per-text CTC loss of `texts` under one model's logits. */
async function read(loaded: LoadedModel, batch: TextBatch) {
  const logits = loaded.model.predict(batch.xs) as tf.Tensor3D;
  const rules = textRulesOf(loaded.metadata);
  const { alphabet } = loaded.metadata;
  const texts = ctcIndicesToText(await ctcConstrainedDecode(logits, rules!), alphabet);
  const loss = async (candidates: string[]) => {
    const l = ctcLoss(textsToCtcLabels(candidates, alphabet), logits);
    const values = Array.from(await l.data());
    l.dispose();
    return values;
  };
  return { texts, loss, dispose: () => logits.dispose() };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await startBackend({});
  const [a, b] = await Promise.all(args.models.map((dir) => loadModel(dir)));
  const { alphabet } = a.metadata;
  const total = { images: 0, a: 0, b: 0, oracle: 0, rescored: 0 };
  const pct = (n: number, of: number) => `${((100 * n) / of).toFixed(2)}%`;
  console.log(`A = ${args.models[0]}, B = ${args.models[1]}, ${args.count} per cell, seed '${args.seed}'`);
  for (const version of DEFAULT_MATRIX_OPTIONS.versions) {
    for (const size of DEFAULT_MATRIX_OPTIONS.sizes) {
      const cell = { images: 0, a: 0, b: 0, oracle: 0, rescored: 0 };
      const batchesOf = (m: LoadedModel) =>
        freshBatches({ count: args.count, seed: args.seed, input: m.metadata.input, imageSize: size, alphabet, length: trainedTextLength(a.metadata), captchaVersion: version })[Symbol.asyncIterator]();
      const [ia, ib] = [batchesOf(a), batchesOf(b)];
      for (;;) {
        const [na, nb] = [await ia.next(), await ib.next()];
        if (na.done || nb.done) break;
        const [ra, rb] = [await read(a, na.value), await read(b, nb.value)];
        const truth = na.value.texts;
        const [aUnderA, bUnderA, aUnderB, bUnderB] = [await ra.loss(ra.texts), await ra.loss(rb.texts), await rb.loss(ra.texts), await rb.loss(rb.texts)];
        truth.forEach((t, i) => {
          const [ta, tb] = [ra.texts[i], rb.texts[i]];
          const pick = ta === tb || aUnderA[i] + aUnderB[i] <= bUnderA[i] + bUnderB[i] ? ta : tb;
          cell.images++;
          cell.a += Number(ta === t);
          cell.b += Number(tb === t);
          cell.oracle += Number(ta === t || tb === t);
          cell.rescored += Number(pick === t);
        });
        ra.dispose();
        rb.dispose();
        tf.dispose([na.value.xs, nb.value.xs]);
      }
      for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += cell[k];
      const n = cell.images;
      console.log(`${version.padEnd(14)} ${size.width}x${size.height}: A ${pct(cell.a, n)}  B ${pct(cell.b, n)}  oracle ${pct(cell.oracle, n)}  rescored ${pct(cell.rescored, n)}`);
    }
  }
  const n = total.images;
  console.log(`all ${n}: A ${pct(total.a, n)}  B ${pct(total.b, n)}  oracle ${pct(total.oracle, n)}  rescored ${pct(total.rescored, n)}`);
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
