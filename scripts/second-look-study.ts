/**
 * The second look at 0/O, studied cell by cell: the model (default models/pretrained) reads fresh
 * CAPTCHAs of every (lepture version x size) cell, as `captcha-lab matrix` does; from the same
 * CRNN output, its reader reads each round glyph through one window (as shipped) and through
 * windows shifted by `--shifts` px (their logits averaged: rule 6 of docs/pretrained.md). Each
 * misread of the shipped reading is sorted by `misreadKind`: a swap of a lone 0 or O (what the
 * reader answers), a swap within a 0-and-O pair, a misread touching no 0 or O, or other.
 *
 *   node dist/scripts/second-look-study.js [--model-dir models/pretrained] [--count 1000] [--seed 5150] [--shifts -2,0,2]
 *
 * Prints a Markdown table, a row per cell. The default seed is used for nothing else (not a
 * training, selection (31337) or record (424242) seed).
 */
import { parseArgs } from 'util';
import * as tf from '@tensorflow/tfjs';
import { parseIntArg } from '../src/cli/common';
import { openModelReader } from '../src/cli/evaluate';
import { DEFAULT_MATRIX_OPTIONS, MISREAD_KINDS, freshBatches, misreadKind, secondLookAtZeroO, trainedTextLength, type MisreadKind } from '../src/eval';
import { ctcConstrainedDecode, ctcIndicesToText } from '../src/models';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'model-dir': { type: 'string', default: 'models/pretrained' },
      count: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '5150' },
      shifts: { type: 'string', default: '-2,0,2' },
    },
  });
  const count = parseIntArg('--count', 1)(values.count!);
  const seed = parseIntArg('--seed')(values.seed!);
  const shifts = values.shifts!.split(',').map(parseIntArg('--shifts'));
  const r = await openModelReader({ modelDir: values['model-dir'] });
  if (!r.secondLook || !r.textRules) throw new Error(`${r.modelDir} has no 0/O reader to study (metadata zeroOReader); attach one with scripts/zero-o-reader.ts attach`);
  // The study decodes the raw output; a calibrated model would be read otherwise by predict and matrix.
  if (r.logitShift) throw new Error(`${r.modelDir} is calibrated (metadata logitShift), which this study does not apply; study a copy without logitShift`);
  const { alphabet, input } = r.metadata;
  const zeros = () => Object.fromEntries(MISREAD_KINDS.map((k) => [k, 0])) as Record<MisreadKind, number>;
  const total = { ...zeros(), errors: 0, shifted: 0 };
  const rows: string[] = [];
  for (const version of DEFAULT_MATRIX_OPTIONS.versions) {
    for (const size of DEFAULT_MATRIX_OPTIONS.sizes) {
      const cell = { ...zeros(), errors: 0, shifted: 0 };
      for await (const batch of freshBatches({ count, seed, input, imageSize: size, alphabet, length: trainedTextLength(r.metadata), captchaVersion: version })) {
        const logits = r.model.predict(batch.xs) as tf.Tensor3D;
        const texts = ctcIndicesToText(await ctcConstrainedDecode(logits, r.textRules), alphabet);
        const shipped = await secondLookAtZeroO(texts, logits, batch.images!, input, alphabet, r.secondLook.reader);
        const shifted = await secondLookAtZeroO(texts, logits, batch.images!, input, alphabet, r.secondLook.reader, shifts);
        tf.dispose([logits, batch.xs, batch.ys ?? []]);
        batch.texts.forEach((truth, i) => {
          if (shifted[i] !== truth) cell.shifted++;
          if (shipped[i] === truth) return;
          cell.errors++;
          cell[misreadKind(truth, shipped[i])]++;
        });
      }
      for (const k of [...MISREAD_KINDS, 'errors', 'shifted'] as const) total[k] += cell[k];
      rows.push(`| ${version} ${size.width}x${size.height} | ${cell.errors} | ${MISREAD_KINDS.map((k) => cell[k]).join(' | ')} | ${cell.shifted} |`);
      console.error(rows[rows.length - 1]);
    }
  }
  const share = (k: MisreadKind) => `${total[k]} (${((100 * total[k]) / Math.max(1, total.errors)).toFixed(0)}%)`;
  console.log(`${r.modelDir}, ${count} fresh CAPTCHAs per cell, seed ${seed}\n`);
  console.log(`| cell | errors | ${MISREAD_KINDS.join(' | ')} | errors, windows at [${shifts.join(', ')}] px |`);
  console.log(`|---|---|${MISREAD_KINDS.map(() => '---').join('|')}|---|`);
  rows.forEach((row) => console.log(row));
  console.log(`| all | ${total.errors} | ${MISREAD_KINDS.map(share).join(' | ')} | ${total.shifted} |`);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
