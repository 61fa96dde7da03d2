/**
 * Training speed of the CRNN + CTC model (tfjs-node unless `--backend` says otherwise): full steps (forward, CTC loss, backward,
 * Adam update) on random images and random 4-6 character labels.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-crnn.js [--batch 64] [--steps 5] \
 *     [--heads conv1d,bigru,dense] [--filters 32,64,128,128] [--units 256] [--gradient alpha-beta] \
 *     [--backend native|webgpu|...] [--profile]
 *
 * Prints one line per head: parameters, median seconds per step and images/s; with --profile, one
 * step's kernels as tf.profile times them (on webgpu: GPU time against the step's wall time).
 */
import * as tf from '@tensorflow/tfjs';
import { createCrnnNet, crnnLoss, type CrnnHead } from '../src/models/crnn-net';
import type { CtcLossOptions } from '../src/models/ctc';
import { parseArgs } from 'util';
import { parseBackendKind, selectBackend } from '../src/backend';
import { parseIntArg } from '../src/cli/common';
import { formatKernelProfile, profileKernels } from './kernel-profile';
import { median } from './stats';

const HEADS: readonly CrnnHead[] = ['conv1d', 'bigru', 'dense'];
const GRADIENTS: ReadonlyArray<CtcLossOptions['gradient']> = ['alpha-beta', 'autodiff'];

async function main(): Promise<void> {
  // strict: a misspelt flag is refused, not silently left at its default
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'native' },
      batch: { type: 'string', default: '64' },
      steps: { type: 'string', default: '5' },
      heads: { type: 'string', default: HEADS.join(',') },
      filters: { type: 'string', default: '32,64,128,128' },
      units: { type: 'string', default: '256' },
      gradient: { type: 'string', default: 'alpha-beta' },
      profile: { type: 'boolean', default: false },
    },
  });
  const batch = parseIntArg('--batch', 1)(values.batch!);
  const steps = parseIntArg('--steps', 1)(values.steps!);
  const heads = values.heads!.split(',') as CrnnHead[];
  const unknownHead = heads.find((h) => !HEADS.includes(h));
  if (unknownHead) throw new Error(`--heads: no head '${unknownHead}'; pick from ${HEADS.join(', ')}`);
  const filters = values.filters!.split(',').map((f) => parseIntArg('--filters', 1)(f.trim()));
  const headUnits = parseIntArg('--units', 1)(values.units!);
  const gradient = values.gradient as CtcLossOptions['gradient'];
  if (!GRADIENTS.includes(gradient)) throw new Error(`--gradient must be one of ${GRADIENTS.join(', ')}, got '${values.gradient}'`);
  await selectBackend({ force: parseBackendKind(values.backend!), log: (l) => console.log(l) });
  console.log(`backend ${tf.getBackend()}, batch ${batch}, filters [${filters}], units ${headUnits}, median of ${steps} steps after 2 warm-up`);

  const xs = tf.randomUniform([batch, 64, 160, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const labels = Array.from({ length: batch }, (_, b) => Array.from({ length: 4 + (b % 3) }, (_, i) => (b * 7 + i * 13) % 36));

  for (const head of heads) {
    const model = createCrnnNet({ head, filters, headUnits });
    const optimizer = tf.train.adam(1e-3);
    const times: number[] = [];
    // One training step; reading the loss waits for it (asynchronously: the read every backend allows).
    const stepOnce = async (): Promise<number> => {
      const l = optimizer.minimize(() => crnnLoss(model, xs, labels, { gradient }), true) as tf.Scalar;
      const value = (await l.data())[0];
      l.dispose();
      return value;
    };
    let loss = NaN;
    for (let i = 0; i < steps + 2; i++) {
      const t0 = process.hrtime.bigint();
      loss = await stepOnce();
      if (i >= 2) times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    if (values.profile) {
      const profile = await profileKernels(stepOnce);
      for (const line of formatKernelProfile(`${head} batch ${batch}`, profile)) console.log(line);
    }
    const s = median(times);
    console.log(
      `${head.padEnd(7)} T=${model.outputs[0].shape[1]} params ${model.countParams()}: ` +
        `${s.toFixed(2)} s/step, ${(batch / s).toFixed(1)} images/s (last loss ${loss.toFixed(2)})`,
    );
    model.dispose();
    optimizer.dispose();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
