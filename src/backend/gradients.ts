/**
 * Gradients of tfjs-core 4.22 replaced by equal ones that stay on the backend.
 *
 * tfjs-core's gradients of `Mean` and `Sum` multiply dy by `ones(x.shape)`, a tensor that
 * `ones` fills in JavaScript and the backend then copies in: for batch normalisation (the mean
 * and variance of every activation map) that is an activation-sized array per reduction per
 * step, 107 MB for the first layer of seed-bn at batch 64, allocated, filled, collected and
 * uploaded to the GPU each step. On WebGPU such steps spent 4-5x their kernel time on the host.
 * Broadcasting dy to x's shape (`broadcastTo`, one Tile kernel) gives exactly the same values
 * (dy times 1) without the array.
 */
import * as tf from '@tensorflow/tfjs';

/** dy with the reduced axes put back as 1s, broadcast to x's shape. */
function broadcastBack(dy: tf.Tensor, x: tf.Tensor, axes: number[]): tf.Tensor {
  const expanded = x.shape.map((size, i) => (axes.includes(i) ? 1 : size));
  return tf.broadcastTo(tf.reshape(tf.cast(dy, 'float32'), expanded), x.shape);
}

const GRADIENTS: tf.GradConfig[] = [
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { axis } = attrs as unknown as tf.MeanAttrs;
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const reduceSize = axes.reduce((n, a) => n * x.shape[a], 1);
      return { x: () => tf.div(broadcastBack(dy as tf.Tensor, x, axes), reduceSize) };
    },
  },
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const { axis } = attrs as unknown as tf.SumAttrs;
      return { x: () => broadcastBack(dy as tf.Tensor, x, tf.util.parseAxisParam(axis, x.shape)) };
    },
  },
];

/** Registers the gradients above in place of tfjs-core's (process-wide, every backend). Idempotent. */
export function registerBroadcastGradients(): void {
  for (const config of GRADIENTS) tf.registerGradient(config);
}
