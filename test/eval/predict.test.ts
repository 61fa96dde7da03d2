import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { predictTexts } from '../../src/eval';
import { textLengthOf } from '../../src/models';
import { useNativeBackend } from '../helpers';

describe('predictTexts', () => {
  before(useNativeBackend);

  /** A "CTC model" whose logits are its input image, reshaped from [1, T, C] to [T, C]. */
  function logitsModel(time: number, classes: number): tf.LayersModel {
    const input = tf.input({ shape: [1, time, classes] });
    const output = tf.layers.reshape({ targetShape: [time, classes] }).apply(input) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: output });
  }

  it('reads CTC texts of the trained length when given one, greedily otherwise', async () => {
    // Blank = 3 ('012' + blank). Greedy reads "012"; the best 4-character path reads "0102".
    const model = logitsModel(4, 4);
    const xs = tf.tensor4d([[[[5, 0, 0, 0], [0, 5, 0, 0], [4, 4.5, 0, 0], [0, 0, 5, 0]]]]);
    assert.deepEqual(await predictTexts(model, xs, '012', 'ctc'), ['012']);
    assert.deepEqual(await predictTexts(model, xs, '012', 'ctc', { min: 4, max: 4 }), ['0102']);
    assert.deepEqual(await predictTexts(model, xs, '012', 'ctc', { min: 1, max: 3 }), ['012']);
    xs.dispose();
    model.dispose();
  });
});

describe('textLengthOf', () => {
  const meta = { architecture: 'crnn', alphabet: 'AB', input: { height: 1, width: 1, channels: 1 } };

  it('gives the lengths a saved model was trained on: fixed, a range, or none', () => {
    assert.deepEqual(textLengthOf({ ...meta, length: 4 }), { min: 4, max: 4 });
    assert.deepEqual(textLengthOf({ ...meta, length: 6, minLength: 3 }), { min: 3, max: 6 });
    assert.equal(textLengthOf(meta), undefined);
  });
});
