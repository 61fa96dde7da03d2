import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { forwardPassRows } from '../../src/viz';

describe('forwardPassRows', () => {
  const input = tf.input({ shape: [4, 6, 1] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const heads = [1, 2].map((i) => tf.layers.dense({ units: 3, activation: 'softmax', name: `digit${i}`, kernelInitializer: 'zeros' }).apply(flat) as tf.SymbolicTensor);
  const model = tf.model({ inputs: input, outputs: heads });

  it('names every output with its shape and mean top probability, leaving no tensors behind', async () => {
    const xs = tf.ones([2, 4, 6, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const rows = await forwardPassRows(model, xs);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(rows.map((r) => [r.output, r.shape]), [['digit1', '[2,3]'], ['digit2', '[2,3]']]);
    assert.ok(Math.abs(rows[0].meanTopProbability - 1 / 3) < 1e-6, 'zero weights give a uniform softmax');
    xs.dispose();
  });

  it('refuses a batch of another image size', async () => {
    const xs = tf.ones([1, 5, 6, 1]) as tf.Tensor4D;
    await assert.rejects(forwardPassRows(model, xs), /reads images of \[4,6,1\] \(H,W,C\) but the batch is \[5,6,1\]/);
    xs.dispose();
  });
});
