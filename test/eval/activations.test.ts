import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { activationStats, formatActivationStats } from '../../src/eval';
import { useNativeBackend } from '../helpers';

function twoConvModel(secondBias: number): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 1] });
  const a = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: 'ones', biasInitializer: 'zeros' }).apply(input) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: 'ones', biasInitializer: tf.initializers.constant({ value: secondBias }) }).apply(a) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(b) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax' }).apply(flat) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('activationStats', () => {
  before(useNativeBackend);

  it('finds a dead ReLU layer and everything after it', async () => {
    const xs = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const model = twoConvModel(-1000);
    const before = tf.memory().numTensors;
    const stats = await activationStats(model, xs);
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    assert.deepEqual(stats.map((s) => s.type), ['Conv2D', 'Conv2D', 'Flatten', 'Dense']);
    assert.ok(stats[0].zeroFraction < 0.01 && stats[0].acrossImagesStd > 0);
    assert.equal(stats[1].zeroFraction, 1);
    assert.equal(stats[2].zeroFraction, 1);
    assert.match(formatActivationStats(stats), /100\.0% DEAD/);
    model.dispose();
    xs.dispose();
  });

  it('reports separate ReLU layers, where units die behind batch normalisation', async () => {
    const input = tf.input({ shape: [8, 8, 1] });
    let x = tf.layers.conv2d({ filters: 2, kernelSize: 3, kernelInitializer: 'ones', biasInitializer: tf.initializers.constant({ value: -1000 }) }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: tf.layers.flatten().apply(x) as tf.SymbolicTensor });
    const xs = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const stats = await activationStats(model, xs);
    assert.deepEqual(stats.map((s) => s.type), ['Conv2D', 'ReLU', 'Flatten']);
    assert.equal(stats[0].zeroFraction, 0, 'the convolution itself outputs negatives, not zeros');
    assert.equal(stats[1].zeroFraction, 1);
    model.dispose();
    xs.dispose();
  });

  it('reports a healthy network as alive', async () => {
    const xs = tf.randomUniform([4, 8, 8, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const model = twoConvModel(0);
    const stats = await activationStats(model, xs);
    assert.ok(stats.length > 0, 'no layer reported');
    assert.ok(stats.every((s) => s.zeroFraction < 1));
    assert.doesNotMatch(formatActivationStats(stats), /DEAD/);
    model.dispose();
    xs.dispose();
  });
});
