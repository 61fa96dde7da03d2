/**
 * `bench`: the small batch-normalised CNN that the training-speed benchmark compares with Keras
 * (the `bench` network of scripts/keras_reference.py, layer for layer).
 *
 * Input 64x160 grayscale; three blocks of [3x3 same convolution with ReLU (32, 64, 128 filters),
 * batch normalisation, 2x2 max-pool]; flatten; dropout 0.2; four dense 36-way softmax heads
 * `digit1..digit4`. Batch normalisation keeps Keras's defaults (momentum 0.99, epsilon 1e-3), which
 * are also tfjs's, so both libraries run the same arithmetic.
 */
import * as tf from '@tensorflow/tfjs';
import { perPositionHeads, seededInitializers } from './per-position-heads';
import type { ModelOptions } from './types';

export function createBenchNet(options: ModelOptions): tf.LayersModel {
  const { height, width, channels, numClasses, numPositions, seed } = options;
  const input = tf.input({ shape: [height, width, channels], name: 'image' });
  let x: tf.SymbolicTensor = input;
  const init = seededInitializers(seed);
  for (const filters of [32, 64, 128]) {
    x = tf.layers
      .conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init() })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  }
  const outputs = perPositionHeads(x, { numClasses, numPositions, seed, dropout: 0.2, init });
  return tf.model({ inputs: input, outputs, name: 'bench' });
}
