/**
 * `seed`: the network of the original 2017 experiment, exactly.
 *
 * Input 80x170 RGB; four pairs of 3x3 valid convolutions (32, 64, 128, 256 filters) with ReLU,
 * each pair followed by a 2x2 stride-2 max-pool; flatten; dropout 0.2; four independent dense
 * 36-way softmax heads `digit1..digit4`, one per character position.
 */
import * as tf from '@tensorflow/tfjs';
import { kernelInitializers } from './init';
import { perPositionHeads } from './per-position-heads';
import type { ModelOptions } from './types';

export function createSeedNet(options: ModelOptions): tf.LayersModel {
  return buildSeedNet(options, { batchNorm: false, name: 'seed' });
}

/** What distinguishes the seed network's variants (`seed-bn`) from the original. */
export interface SeedNetVariant {
  /** Batch normalisation between each convolution and its ReLU. */
  batchNorm: boolean;
  name: string;
}

export function buildSeedNet(options: ModelOptions, variant: SeedNetVariant): tf.LayersModel {
  const { height, width, channels, numClasses, numPositions, seed, init = 'he' } = options;
  const input = tf.input({ shape: [height, width, channels], name: 'image' });
  let x: tf.SymbolicTensor = input;
  // `init` (src/models/init.ts) decides whether this network leaves the chance plateau (loss
  // 4 ln 36) at all; Mathematica 11.0's scheme is the 2017 run's. Convolutions draw seeds
  // seed, seed + 1, ...; the heads seed + 1000, ...
  const convInit = kernelInitializers(init, seed);
  const headInit = kernelInitializers(init, seed + 1000);
  // with batch norm between them, the ReLU still follows the convolution
  const reluFollows = true;
  let inChannels = channels;
  // with batch norm, the ReLU comes after it as a layer of its own
  const activation = variant.batchNorm ? 'linear' : 'relu';
  for (const filters of [32, 64, 128, 256]) {
    for (let i = 0; i < 2; i++) {
      x = tf.layers
        .conv2d({ filters, kernelSize: 3, padding: 'valid', activation, kernelInitializer: convInit([3, 3, inChannels, filters], reluFollows) })
        .apply(x) as tf.SymbolicTensor;
      inChannels = filters;
      if (variant.batchNorm) {
        x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
        x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
      }
    }
    x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x) as tf.SymbolicTensor;
  }
  const features = (x.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const outputs = perPositionHeads(x, { numClasses, numPositions, seed, dropout: 0.2, init: () => headInit([features, numClasses], false) });
  return tf.model({ inputs: input, outputs, name: variant.name });
}
