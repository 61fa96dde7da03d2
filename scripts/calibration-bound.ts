/**
 * How far could a 0/O calibration go if it knew each image's lepture version? Reads the
 * calibration CAPTCHAs of `captcha-lab calibrate` (same seed, same images) version by version and
 * takes, for every (version x size), the best of the 33 shifts: an upper bound, chosen on the
 * images it is scored on (so optimistic), for any shift by version and size.
 *
 *   node dist/scripts/calibration-bound.js [--model-dir models/pretrained] [--count 500]
 */
import { DEFAULT_CALIBRATION_OPTIONS, DEFAULT_MATRIX_OPTIONS, calibrationTables } from '../src/eval';
import { loadModel, textRulesOf } from '../src/models';
import { parseArgs } from 'util';
import { parseIntArg, startBackend } from '../src/cli/common';

async function main(): Promise<void> {
  // strict: a misspelt flag (--model for --model-dir) is refused, not silently left at its default
  const { values } = parseArgs({ options: { 'model-dir': { type: 'string', default: 'models/pretrained' }, count: { type: 'string', default: '500' } } });
  const modelDir = values['model-dir']!;
  const count = parseIntArg('--count', 1)(values.count!);
  await startBackend({});
  const { model, metadata } = await loadModel(modelDir);
  const options = DEFAULT_CALIBRATION_OPTIONS;
  const zero = options.grid.indexOf(0);
  const isMatrixSize = (w: number, h: number) => DEFAULT_MATRIX_OPTIONS.sizes.some((s) => s.width === w && s.height === h);
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  let [images, plain, best, worstPlain, worstBest] = [0, 0, 0, 1, 1];
  for (const version of options.versions) {
    const tables = await calibrationTables(model, metadata, textRulesOf(metadata), { ...options, versions: [version], count });
    for (const t of tables) {
      const top = Math.max(...t.correct);
      console.log(`${version.padEnd(14)} ${t.width}x${t.height}: ${pct(t.correct[zero] / t.images)} unshifted, ${pct(top / t.images)} at the best shift (${options.grid[t.correct.indexOf(top)]})`);
      [images, plain, best] = [images + t.images, plain + t.correct[zero], best + top];
      if (isMatrixSize(t.width, t.height)) [worstPlain, worstBest] = [Math.min(worstPlain, t.correct[zero] / t.images), Math.min(worstBest, top / t.images)];
    }
  }
  console.log(`all ${images}: ${pct(plain / images)} unshifted, ${pct(best / images)} with a shift per (version x size); the matrix's sizes, worst cell: ${pct(worstPlain)} -> ${pct(worstBest)}`);
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
