/**
 * The optimizer a training config asks for. Adam's `beta1`, `beta2` and `epsilon` are set on
 * tfjs's AdamOptimizer, whose fields the fused native update (src/backend/fused/adam.ts) reads at
 * every step, so both training paths use them.
 */
import * as tf from '@tensorflow/tfjs';
import type { TrainConfig } from './config';

/** SGD's momentum (the `sgd` optimizer is SGD with momentum). */
export const SGD_MOMENTUM = 0.9;

export function createOptimizer(config: Pick<TrainConfig, 'optimizer' | 'learningRate' | 'beta1' | 'beta2' | 'epsilon'>): tf.Optimizer {
  switch (config.optimizer) {
    case 'adam':
      // undefined keeps tfjs's defaults (0.9, 0.999, the backend's epsilon)
      return tf.train.adam(config.learningRate, config.beta1, config.beta2, config.epsilon);
    case 'sgd':
      return tf.train.momentum(config.learningRate, SGD_MOMENTUM);
    case 'rmsprop':
      return tf.train.rmsprop(config.learningRate, undefined, undefined, config.epsilon);
    default: {
      const never: never = config.optimizer;
      throw new Error(`unknown optimizer ${String(never)}`);
    }
  }
}

/**
 * An optimizer's state (Adam's moments and step count, momentum's velocities) as bytes and their
 * manifest, tf.io's weight encoding: what a checkpoint keeps so that a resume goes on with the same
 * state instead of a fresh optimizer, whose first steps undo part of what was learned.
 */
export async function encodeOptimizerState(optimizer: tf.Optimizer): Promise<{ data: Uint8Array; specs: tf.io.WeightsManifestEntry[] }> {
  const named = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(named);
  // tfjs makes the step count ('iter') a new scalar at each call; the rest are the optimizer's own
  named.filter((w) => w.name === 'iter').forEach((w) => w.tensor.dispose());
  return { data: new Uint8Array(data), specs };
}

/** The tensors `encodeOptimizerState` wrote, for `optimizer.setWeights` (which copies them: the caller frees them). */
export function decodeOptimizerState(bytes: Uint8Array, specs: tf.io.WeightsManifestEntry[]): Array<{ name: string; tensor: tf.Tensor }> {
  const map = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}
