import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { availableFusedKernels } from '../../src/backend/fused';
import { resolveTrainConfig, type TrainConfig } from '../../src/train';
import { createOptimizer } from '../../src/train/optimizer';
import { createTrainStep } from '../../src/train/step';
import { useNativeBackend } from '../helpers';

interface AdamFields {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

function smallModel(): tf.LayersModel {
  const input = tf.input({ shape: [6, 8, 1] });
  let x = tf.layers.conv2d({ filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const outputs = [0, 1].map((i) => tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 + i }) }).apply(x) as tf.SymbolicTensor);
  return tf.model({ inputs: input, outputs });
}

/** The weights after 4 steps on one batch with the optimizer `config` asks for, on the fast or plain path. */
async function weightsAfterSteps(config: Partial<TrainConfig>, fast: boolean): Promise<Float32Array[]> {
  const model = smallModel();
  const optimizer = createOptimizer(resolveTrainConfig({ learningRate: 0.01, ...config }));
  const step = createTrainStep(model, optimizer, { fast });
  const xs = tf.randomUniform([8, 6, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const ys = tf.tensor2d([0, 1, 2, 3, 3, 2, 1, 0, 0, 0, 1, 1, 2, 2, 3, 3], [8, 2], 'int32');
  for (let i = 0; i < 4; i++) {
    const r = step(xs, ys);
    tf.dispose([r.loss, r.correct]);
  }
  const weights = await Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
  step.dispose();
  optimizer.dispose();
  model.dispose();
  tf.dispose([xs, ys]);
  return weights;
}

function maxDifference(a: Float32Array[], b: Float32Array[]): number {
  return Math.max(...a.map((w, i) => Math.max(...w.map((v, j) => Math.abs(v - b[i][j])))));
}

describe('optimizer settings', () => {
  before(useNativeBackend);

  it("gives Adam the config's beta1, beta2 and epsilon, and tfjs's defaults when they are unset", () => {
    const set = createOptimizer(resolveTrainConfig({ beta1: 0.93, beta2: 0.99, epsilon: 1e-8 })) as unknown as AdamFields;
    assert.ok(set instanceof tf.AdamOptimizer);
    assert.deepEqual([set.learningRate, set.beta1, set.beta2, set.epsilon], [0.001, 0.93, 0.99, 1e-8]);
    const unset = createOptimizer(resolveTrainConfig({})) as unknown as AdamFields;
    assert.deepEqual([unset.beta1, unset.beta2, unset.epsilon], [0.9, 0.999, tf.backend().epsilon()]);
    const rms = createOptimizer(resolveTrainConfig({ optimizer: 'rmsprop', epsilon: 1e-5 })) as unknown as AdamFields;
    assert.ok(rms instanceof tf.RMSPropOptimizer);
    assert.equal(rms.epsilon, 1e-5);
  });

  it('refuses settings the chosen optimizer does not have, and values out of range', () => {
    assert.throws(() => resolveTrainConfig({ optimizer: 'sgd', beta1: 0.93 }), /beta1 set Adam's moments, but optimizer is sgd; use --optimizer adam or leave them out/);
    assert.throws(() => resolveTrainConfig({ optimizer: 'rmsprop', beta1: 0.9, beta2: 0.99 }), /beta1 and beta2 set Adam's moments, but optimizer is rmsprop/);
    assert.throws(() => resolveTrainConfig({ optimizer: 'sgd', epsilon: 1e-8 }), /epsilon is used by adam and rmsprop, not sgd/);
    assert.throws(() => resolveTrainConfig({ beta1: 1 }), /beta1: beta1 must be in \[0, 1\) \(got 1\)/);
    assert.throws(() => resolveTrainConfig({ epsilon: 0 }), /epsilon: epsilon must be > 0 \(got 0\)/);
  });

  it('trains with them on the fused native Adam exactly as on tfjs\'s own, and differently from the defaults', async function () {
    if (!availableFusedKernels().includes('adam')) this.skip();
    const settings = { beta1: 0.5, beta2: 0.9, epsilon: 1e-3 };
    const fused = await weightsAfterSteps(settings, true);
    const plain = await weightsAfterSteps(settings, false);
    assert.ok(maxDifference(fused, plain) < 1e-5, `fused vs plain: ${maxDifference(fused, plain)}`);
    const defaults = await weightsAfterSteps({}, true);
    assert.ok(maxDifference(fused, defaults) > 1e-4, `the settings change the update: ${maxDifference(fused, defaults)}`);
  });
});
