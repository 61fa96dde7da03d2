import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { decodeMeanProbabilities, predictTexts, predictTextsEnsemble, shiftImages } from '../../src/eval';
import { logitsModel, useNativeBackend } from '../helpers';

describe('ensembles of CTC readers', () => {
  before(useNativeBackend);
  const rules = { min: 2, max: 2, distinct: true };

  it('shifts images along their width, repeating the edge column', async () => {
    const xs = tf.tensor4d([1, 2, 3, 4], [1, 1, 4, 1]);
    assert.deepEqual(Array.from(await shiftImages(xs, 1).data()), [1, 1, 2, 3]);
    assert.deepEqual(Array.from(await shiftImages(xs, -2).data()), [3, 4, 4, 4]);
    assert.deepEqual(Array.from(await shiftImages(xs, 0).data()), [1, 2, 3, 4]);
    assert.throws(() => shiftImages(xs, 4), /shift must be a whole number of pixels below the width 4, got 4/);
  });

  it('decodes the mean of the members\' probabilities, weighted by how many members say each', async () => {
    // frames of [A, B, blank] probabilities
    const readsAB = tf.tensor3d([[[0.6, 0.3, 0.1], [0.05, 0.05, 0.9], [0.1, 0.8, 0.1]]]);
    const readsBA = tf.tensor3d([[[0.1, 0.8, 0.1], [0.05, 0.05, 0.9], [0.7, 0.2, 0.1]]]);
    assert.deepEqual(await decodeMeanProbabilities([readsAB], 'AB', rules), ['AB']);
    assert.deepEqual(await decodeMeanProbabilities([readsBA], 'AB', rules), ['BA']);
    // mean: frame 0 A .35 / B .55, frame 2 A .40 / B .50: "BA" scores .22 against .175
    assert.deepEqual(await decodeMeanProbabilities([readsAB, readsBA], 'AB', rules), ['BA']);
    // two votes for "AB": frame 0 A .43 / B .47, frame 2 A .30 / B .60: "AB" .26 against .14
    assert.deepEqual(await decodeMeanProbabilities([readsAB, readsAB, readsBA], 'AB', rules), ['AB']);
    await assert.rejects(decodeMeanProbabilities([], 'AB'), /an ensemble needs at least one member/);
    await assert.rejects(decodeMeanProbabilities([readsAB, tf.zeros([1, 4, 3]) as tf.Tensor3D], 'AB'), /ensemble members emit different shapes \(1x3x3, 1x4x3\)/);
  });

  it('reads like the model alone with one member, and like it with the same member twice', async () => {
    const model = logitsModel(6, 4);
    const xs = tf.randomNormal([5, 1, 6, 4], 0, 2, 'float32', 3) as tf.Tensor4D;
    const textRules = { min: 2, max: 3, distinct: true };
    const alone = await predictTexts(model, xs, 'ABC', 'ctc', textRules);
    assert.deepEqual(await predictTextsEnsemble([{ model }], xs, 'ABC', textRules), alone);
    assert.deepEqual(await predictTextsEnsemble([{ model }, { model }], xs, 'ABC', textRules), alone);
    assert.deepEqual(await predictTextsEnsemble([{ model }], xs, 'ABC'), await predictTexts(model, xs, 'ABC', 'ctc'));
  });
});
