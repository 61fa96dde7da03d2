/**
 * Dropout whose mask is a pure function of (seed, training step).
 *
 * tfjs's own Dropout either draws an unseeded mask (runs cannot be reproduced or resumed to the
 * same weights) or, given a seed, the *same* mask on every call (which weakens regularisation).
 * The trainer advances `step` before each batch and stores it in checkpoints, so an interrupted
 * and resumed run draws exactly the masks an uninterrupted run draws.
 */
import * as tf from '@tensorflow/tfjs';

export interface SeededDropoutArgs {
  rate: number;
  seed?: number;
  name?: string;
}

export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  readonly seed: number;
  /** Advanced by the trainer before each training batch. */
  step = 0;

  constructor(args: SeededDropoutArgs) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) {
      throw new Error(`dropout rate ${args.rate} must be in [0, 1)`);
    }
    this.rate = args.rate;
    this.seed = args.seed ?? 0;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return tf.tidy(() => {
      // Seeds must stay integers well inside float64 precision for tf's seedrandom.
      const stepSeed = (this.seed * 1000003 + this.step * 7919) % 2147483647;
      const keep = tf.randomUniform(x.shape, 0, 1, 'float32', stepSeed).greaterEqual(this.rate);
      return x.mul(keep.cast('float32')).div(1 - this.rate);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);

/** Sets the dropout step of every SeededDropout layer in `model`. */
export function setDropoutStep(model: tf.LayersModel, step: number): void {
  for (const layer of model.layers) if (layer instanceof SeededDropout) layer.step = step;
}
