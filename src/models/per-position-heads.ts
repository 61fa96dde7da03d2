/**
 * The part every per-position network shares: flatten, seeded dropout, then one dense softmax
 * head `digit1..digitN` per character. Initialisers are seeded in layer order, so a network is a
 * pure function of its seed.
 */
import * as tf from '@tensorflow/tfjs';
import { SeededDropout } from './seeded-dropout';
import type { ModelOptions } from './types';

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** Seeded Glorot (Xavier) uniform initialisers, Keras's default, one new seed per call: `seed`, `seed + 1`, ... */
export function seededInitializers(seed: number): () => Initializer {
  let next = seed;
  return () => tf.initializers.glorotUniform({ seed: next++ });
}

/** Flatten -> dropout -> `numPositions` softmax heads of `numClasses` over the features `x`. */
export function perPositionHeads(
  x: tf.SymbolicTensor,
  options: Pick<ModelOptions, 'numClasses' | 'numPositions' | 'seed'> & { dropout: number; init: () => Initializer },
): tf.SymbolicTensor[] {
  let features = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  features = new SeededDropout({ rate: options.dropout, seed: options.seed }).apply(features) as tf.SymbolicTensor;
  return Array.from({ length: options.numPositions }, (_, i) =>
    tf.layers
      .dense({ units: options.numClasses, activation: 'softmax', name: `digit${i + 1}`, kernelInitializer: options.init() })
      .apply(features) as tf.SymbolicTensor,
  );
}
