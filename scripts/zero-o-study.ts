/**
 * What helps against the 0/O confusion, measured on the same fresh images: the decoding (greedy,
 * exactly 4 characters, 4 distinct characters), test-time shifts of one model, and an ensemble of
 * models (e.g. snapshots of one run). Every variant reads the same images, so the differences are
 * paired, not draws of another test set. Use a selection seed (default 31337), not the matrix's.
 *
 *   node dist/scripts/zero-o-study.js --models models/pretrained,models/other \
 *     [--cells 0.7.1@160x60,0.2.2@140x80] [--count 2000] [--seed 31337] [--shifts -2,2] [--out file.json]
 */
import * as tf from '@tensorflow/tfjs';
import type { CaptchaVersion } from '../src/captcha';
import { decodeMeanProbabilities, freshBatches, memberProbabilities, parseImageSize, scorePredictions, trainedTextLength } from '../src/eval';
import { onlyZeroOSwaps } from '../src/eval/matrix';
import { getModelSpec, loadModel, textRulesOf, type ModelMetadata } from '../src/models';
import { writeFileAtomic } from '../src/files';
import { parseIntArg, startBackend } from '../src/cli/common';
import { createReportFolder } from '../src/cli/evaluate';

interface Args {
  models: string[];
  cells: Array<{ version: CaptchaVersion; width: number; height: number }>;
  count: number;
  seed: number;
  shifts: number[];
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { models: ['models/pretrained'], cells: [], count: 2000, seed: 31337, shifts: [-2, 2] };
  let cells = '0.7.0@160x60,0.7.1@160x60,0.2.2@140x80,0.7.0@170x80';
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1];
    if (argv[i] === '--models') args.models = v.split(',');
    else if (argv[i] === '--cells') cells = v;
    else if (argv[i] === '--count') args.count = parseIntArg('--count', 1)(v);
    else if (argv[i] === '--seed') args.seed = parseIntArg('--seed')(v);
    else if (argv[i] === '--shifts') args.shifts = v.split(',').map((s) => parseIntArg('--shifts')(s.trim()));
    else if (argv[i] === '--out') args.out = v;
    else throw new Error(`unknown argument '${argv[i]}'; see the comment at the top of scripts/zero-o-study.ts`);
  }
  args.cells = cells.split(',').map((c) => {
    const [version, size] = c.split('@');
    return { version: version as CaptchaVersion, ...parseImageSize(size) };
  });
  if (args.out) createReportFolder(args.out); // now, once every flag is checked, not after the study
  return args;
}

interface Variant {
  name: string;
  /** Indices into the probability list of a batch: [model][shift index]. */
  pick: (probs: tf.Tensor3D[][]) => tf.Tensor3D[];
  decoding: 'greedy' | 'length' | 'distinct';
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await startBackend({});
  const loaded = await Promise.all(args.models.map((dir) => loadModel(dir)));
  const metadata: ModelMetadata = loaded[0].metadata;
  const rules = textRulesOf(metadata);
  if (getModelSpec(metadata.architecture).head !== 'ctc' || !rules) throw new Error(`${args.models[0]} is not a CTC model with recorded text rules; the study compares CTC decodings`);
  for (const [i, { metadata: m }] of loaded.entries()) {
    if (m.alphabet !== metadata.alphabet || JSON.stringify(m.input) !== JSON.stringify(metadata.input) || getModelSpec(m.architecture).head !== 'ctc') {
      throw new Error(`${args.models[i]} reads another alphabet or input than ${args.models[0]}, or is not a CTC model: an ensemble needs the same outputs`);
    }
  }
  const shifts = [0, ...args.shifts];
  const variants: Variant[] = [
    { name: 'greedy decoding (any length, repeats)', pick: (p) => [p[0][0]], decoding: 'greedy' },
    { name: 'best path of the training lengths, repeats allowed', pick: (p) => [p[0][0]], decoding: 'length' },
    { name: 'best path of the training lengths, distinct characters (the default)', pick: (p) => [p[0][0]], decoding: 'distinct' },
    { name: `test-time shifts ${shifts.join(', ')} px, averaged`, pick: (p) => p[0], decoding: 'distinct' },
  ];
  if (loaded.length > 1) {
    variants.push({ name: `ensemble of ${loaded.length} models`, pick: (p) => p.map((m) => m[0]), decoding: 'distinct' });
    variants.push({ name: `ensemble of ${loaded.length} models x ${shifts.length} shifts`, pick: (p) => p.flat(), decoding: 'distinct' });
  }
  const rows: Array<{ cell: string; variant: string; whole: number; errors: number; zeroO: number }> = [];
  for (const cell of args.cells) {
    const predicted: string[][] = variants.map(() => []);
    const actual: string[] = [];
    const batches = freshBatches({
      count: args.count, seed: args.seed, input: metadata.input, imageSize: cell, alphabet: metadata.alphabet, length: trainedTextLength(metadata), captchaVersion: cell.version,
    });
    for await (const batch of batches) {
      const probs = loaded.map(({ model }) => shifts.map((shift) => memberProbabilities({ model, shift }, batch.xs)));
      for (const [v, variant] of variants.entries()) {
        const decodeRules = variant.decoding === 'greedy' ? undefined : { ...rules, distinct: variant.decoding === 'distinct' };
        predicted[v].push(...(await decodeMeanProbabilities(variant.pick(probs), metadata.alphabet, decodeRules)));
      }
      actual.push(...batch.texts);
      probs.flat().forEach((p) => p.dispose());
      batch.xs.dispose();
    }
    const name = `${cell.version} ${cell.width}x${cell.height}`;
    for (const [v, variant] of variants.entries()) {
      const r = scorePredictions(actual, predicted[v], metadata.alphabet);
      const zeroO = r.misreads.filter((m) => onlyZeroOSwaps(m.actual, m.predicted)).length;
      rows.push({ cell: name, variant: variant.name, whole: r.wholeAccuracy, errors: r.misreads.length, zeroO });
      console.log(`${name} | ${variant.name} | ${(100 * r.wholeAccuracy).toFixed(2)}% | ${r.misreads.length} errors, ${zeroO} only 0/O`);
    }
  }
  const result = { models: args.models, count: args.count, seed: args.seed, rows };
  if (args.out) writeFileAtomic(args.out, JSON.stringify(result, null, 1));
  console.log(JSON.stringify(result));
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

