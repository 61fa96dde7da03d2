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
import { parseBackendKind, selectBackend } from '../src/backend';
import { formatKernelProfile, profileKernels } from './kernel-profile';
import { median } from './stats';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  await selectBackend({ force: parseBackendKind(arg('backend', 'native')), log: (l) => console.log(l) });
  const batch = Number(arg('batch', '64'));
  const steps = Number(arg('steps', '5'));
  const heads = arg('heads', 'conv1d,bigru,dense').split(',') as CrnnHead[];
  const filters = arg('filters', '32,64,128,128').split(',').map(Number);
  const headUnits = Number(arg('units', '256'));
  const gradient = arg('gradient', 'alpha-beta') as CtcLossOptions['gradient'];
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
    if (process.argv.includes('--profile')) {
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

if (require.main === module) void main();
