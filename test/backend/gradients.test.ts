import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { registerBroadcastGradients } from '../../src/backend';
import { useNativeBackend } from '../helpers';

/** Sizes of the tensors made from JavaScript arrays (engine.makeTensor) while `f` runs. */
function jsTensorSizes(f: () => tf.Tensor): number[] {
  const engine = tf.engine() as unknown as { makeTensor: (...args: unknown[]) => tf.Tensor };
  const original = engine.makeTensor;
  const sizes: number[] = [];
  engine.makeTensor = function (this: unknown, ...args: unknown[]) {
    const t = original.apply(this, args);
    sizes.push(t.size);
    return t;
  };
  try {
    tf.dispose(f());
  } finally {
    engine.makeTensor = original;
  }
  return sizes;
}

describe('gradients of Mean and Sum that stay on the backend', () => {
  before(async () => {
    await useNativeBackend();
    registerBroadcastGradients();
  });

  const cases: Array<{ axis: number | number[]; keepDims: boolean }> = [
    { axis: [0, 1, 2], keepDims: false }, // batch normalisation's moments
    { axis: -1, keepDims: true },
    { axis: [1, 3], keepDims: false },
    { axis: [0, 1, 2, 3], keepDims: false },
  ];
  for (const { axis, keepDims } of cases) {
    it(`equal dy broadcast back (divided by the count for Mean) for axis ${JSON.stringify(axis)}${keepDims ? ', keepDims' : ''}`, async () => {
      const x = tf.randomUniform([2, 3, 4, 5], -1, 1, 'float32', 7);
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const reduced = x.shape.map((n, i) => (axes.includes(i) ? 1 : n));
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      // weights on the reduced values make dy differ per output
      const w = tf.randomUniform(reduced, 0.5, 2, 'float32', 8);
      const weighted = (r: tf.Tensor) => tf.sum(tf.mul(tf.reshape(r, reduced), w));
      const gMean = tf.grad((t: tf.Tensor) => weighted(tf.mean(t, axis, keepDims)))(x);
      const gSum = tf.grad((t: tf.Tensor) => weighted(tf.sum(t, axis, keepDims)))(x);
      const expectedSum = tf.broadcastTo(w, x.shape);
      const expectedMean = tf.div(expectedSum, count);
      assert.deepEqual(Array.from(await gSum.data()), Array.from(await expectedSum.data()));
      const [got, want] = [await gMean.data(), await expectedMean.data()];
      assert.ok(got.every((v, i) => Math.abs(v - want[i]) <= 1e-7 * Math.abs(want[i])), 'mean gradient differs');
      tf.dispose([x, w, gMean, gSum, expectedSum, expectedMean]);
    });
  }

  it("build no tensor of x's size in JavaScript (tfjs-core's multiply dy by ones(x.shape), filled on the CPU)", () => {
    const x = tf.randomUniform([8, 30, 40, 16]);
    const moments = (t: tf.Tensor) => {
      const { mean, variance } = tf.moments(t, [0, 1, 2]);
      return tf.add(tf.sum(mean), tf.sum(variance));
    };
    const sizes = jsTensorSizes(() => tf.grad(moments)(x));
    assert.ok(sizes.every((n) => n < x.size), `tensors made in JavaScript: ${sizes.join(', ')}`);
    x.dispose();
  });
});
