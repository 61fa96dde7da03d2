/**
 * `seed-bn`: the 2017 network with one change, batch normalisation between every convolution and
 * its ReLU (Keras's defaults, momentum 0.99, epsilon 1e-3).
 *
 * Why it exists: the original network, trained as in 2017 (Adam, learning rate 0.001), stays on
 * the chance plateau on our images and its ReLUs die, in TensorFlow.js and in Keras alike (see
 * docs/replication.md). Normalising each convolution's output keeps every layer's
 * units alive and input-dependent, which is the smallest change we found that lets the same
 * layers, heads, data and optimiser learn.
 */
import * as tf from '@tensorflow/tfjs';
import { buildSeedNet } from './seed-net';
import type { ModelOptions } from './types';

export function createSeedBnNet(options: ModelOptions): tf.LayersModel {
  return buildSeedNet(options, { batchNorm: true, name: 'seed-bn' });
}
