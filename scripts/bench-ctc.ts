/**
 * Times the CTC loss and its gradient: closed-form alpha-beta gradient vs automatic
 * differentiation, plus TensorFlow's native CTCLoss op (reachable only on tfjs-node) for scale.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench-ctc.js [--batch 64] [--time 40] [--repeats 20]
 *
 * Prints one line per variant: median milliseconds for the loss alone and for loss + gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { ctcLoss, type CtcLossOptions } from '../src/models/ctc';
import { parseArgs } from 'util';
import { parseIntArg } from '../src/cli/common';
import { median } from './stats';

/** The flags, strictly: a misspelt one is refused, not silently left at its default. */
function flags(): { batch: number; time: number; classes: number; repeats: number } {
  const { values } = parseArgs({
    options: {
      batch: { type: 'string', default: '64' },
      time: { type: 'string', default: '40' },
      classes: { type: 'string', default: '37' },
      repeats: { type: 'string', default: '20' },
    },
  });
  return {
    batch: parseIntArg('--batch', 1)(values.batch!),
    time: parseIntArg('--time', 1)(values.time!),
    classes: parseIntArg('--classes', 1)(values.classes!),
    repeats: parseIntArg('--repeats', 1)(values.repeats!),
  };
}

async function time(fn: () => Promise<void>, repeats: number): Promise<number> {
  await fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ms);
}

async function main(): Promise<void> {
  require('@tensorflow/tfjs-node');
  const { batch: B, time: T, classes: C, repeats } = flags();
  // Labels of 4 to 6 characters, as for variable-length CAPTCHAs.
  const lengths = Array.from({ length: B }, (_, b) => 4 + (b % 3));
  const labelRows = lengths.map((n, b) => Array.from({ length: 6 }, (_, i) => (i < n ? (b * 7 + i * 13) % (C - 1) : 0)));
  const labels = labelRows.map((r, b) => r.slice(0, lengths[b]));
  const logits = tf.randomNormal([B, T, C], 0, 1, 'float32', 1) as tf.Tensor3D;
  console.log(`backend ${tf.getBackend()}, B=${B} T=${T} C=${C} L=4..6, median of ${repeats}`);

  for (const gradient of ['alpha-beta', 'autodiff'] as CtcLossOptions['gradient'][]) {
    // each variant reads its result back (asynchronously) so that the time covers the computation
    const fwd = await time(async () => {
      const l = ctcLoss(labels, logits, undefined, { gradient });
      await l.data();
      l.dispose();
    }, repeats);
    const both = await time(async () => {
      const g = tf.grad((x: tf.Tensor) => ctcLoss(labels, x as tf.Tensor3D, undefined, { gradient }).mean())(logits);
      await g.data();
      g.dispose();
    }, repeats);
    console.log(`${gradient.padEnd(10)} loss ${fwd.toFixed(1)} ms, loss+gradient ${both.toFixed(1)} ms`);
  }

  // TensorFlow's own kernel, for scale: what a native fast path in src/backend could reach.
  const nb = require('@tensorflow/tfjs-node/dist/nodejs_kernel_backend');
  const be = tf.backend() as unknown as {
    binding: { TF_ATTR_BOOL: number };
    executeSingleOutput(name: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
    executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], n: number): tf.Tensor[];
  };
  const bool = (name: string, value: boolean) => ({ name, type: be.binding.TF_ATTR_BOOL, value });
  const native = await time(async () => {
    const [loss, grad] = tf.tidy(() => {
      const idx = lengths.flatMap((n, b) => Array.from({ length: n }, (_, i) => [b, i]));
      const idx64 = be.executeSingleOutput(
        'Cast',
        [nb.createTensorsTypeOpAttr('SrcT', 'int32'), nb.createTensorsTypeOpAttr('DstT', 'int64'), bool('Truncate', false)],
        [tf.tensor2d(idx, [idx.length, 2], 'int32')],
      );
      const values = tf.tensor1d(labels.flat(), 'int32');
      return be.executeMultipleOutputs(
        'CTCLoss',
        [
          bool('preprocess_collapse_repeated', false),
          bool('ctc_merge_repeated', true),
          bool('ignore_longer_outputs_than_inputs', false),
          nb.createTensorsTypeOpAttr('T', 'float32'),
        ],
        [tf.transpose(logits, [1, 0, 2]), idx64, values, tf.fill([B], T, 'int32')],
        2,
      );
    });
    await Promise.all([loss.data(), grad.data()]);
    tf.dispose([loss, grad]);
  }, repeats);
  console.log(`native TF CTCLoss op (loss and gradient together) ${native.toFixed(1)} ms`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
