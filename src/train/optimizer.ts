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
