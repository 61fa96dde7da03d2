import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { evaluateModel, evaluateViews, evaluateViewsOnFresh, freshBatches, transformImages, type TextBatch } from '../../src/eval';
import { loadModel, textRulesOf } from '../../src/models';
import { logitsModel, useNativeBackend } from '../helpers';

describe('transformImages', () => {
  before(useNativeBackend);

  /** One 3x4 grayscale image whose pixel (r, c) is 10 r + c. */
  const grid = () => tf.tensor4d([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], [1, 3, 4, 1]);
  const rows = (x: tf.Tensor4D) => (x.squeeze([0, 3]).arraySync() as number[][]);

  it('moves the content by whole pixels and mirrors the uncovered edge', () => {
    const x = grid();
    assert.deepEqual(rows(transformImages(x, { dx: 1 })), [
      [0, 0, 1, 2],
      [10, 10, 11, 12],
      [20, 20, 21, 22],
    ]);
    assert.deepEqual(rows(transformImages(x, { dx: -2 })), [
      [2, 3, 3, 2],
      [12, 13, 13, 12],
      [22, 23, 23, 22],
    ]);
    assert.deepEqual(rows(transformImages(x, { dy: -1 })), [
      [10, 11, 12, 13],
      [20, 21, 22, 23],
      [20, 21, 22, 23],
    ]);
    assert.deepEqual(rows(transformImages(x, {})), rows(x));
  });

  it('scales about the centre and keeps the shape', () => {
    const flat = tf.fill([2, 60, 160, 1], 0.75) as tf.Tensor4D;
    for (const scale of [0.95, 1.05]) {
      const y = transformImages(flat, { scale });
      assert.deepEqual(y.shape, [2, 60, 160, 1]);
      assert.ok(Math.abs((y.max().arraySync() as number) - 0.75) < 1e-6 && Math.abs((y.min().arraySync() as number) - 0.75) < 1e-6);
    }
    // A bright centre pixel stays in the centre when the image grows.
    const dot = tf.buffer([1, 5, 5, 1]);
    dot.set(1, 0, 2, 2, 0);
    const grown = rows(transformImages(dot.toTensor() as tf.Tensor4D, { scale: 1.2 }));
    const brightest = grown.flat().indexOf(Math.max(...grown.flat()));
    assert.equal(brightest, 2 * 5 + 2);
  });

  it('refuses fractional or too wide shifts and extreme scales, by name', () => {
    const x = grid();
    assert.throws(() => transformImages(x, { dx: 0.5 }), /shift \(0.5, 0\) must be whole pixels, smaller than the 4x3 image/);
    assert.throws(() => transformImages(x, { dy: 3 }), /smaller than the 4x3 image/);
    assert.throws(() => transformImages(x, { scale: 2 }), /scale 2 must be between 0.5 and 2/);
  });
});

describe('evaluateViews', () => {
  before(useNativeBackend);

  async function* oneBatch(): AsyncGenerator<TextBatch> {
    // Steps read 0, 1, 2, blank (class 3): "012". Moved left, the 0 falls off the image.
    const xs = tf.tensor4d([[[[5, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0], [0, 0, 0, 5]]]]);
    yield { xs, texts: ['012'] };
  }

  it('scores the same images once per view, in the order given', async () => {
    const model = logitsModel(4, 4);
    const rows = await evaluateViews(model, oneBatch(), {
      alphabet: '012',
      head: 'ctc',
      views: [{ name: 'as is' }, { name: 'left', dx: -1 }, { name: 'right', dx: 1 }],
    });
    assert.deepEqual(
      rows.map((r) => [r.view, r.wholeAccuracy]),
      [
        ['as is', 1],
        ['left', 0],
        ['right', 1],
      ],
    );
    assert.equal(rows[0].characterAccuracy, 1);
    assert.ok(rows[1].characterAccuracy < 1);
    model.dispose();
  });
});

describe('evaluateViewsOnFresh', () => {
  before(useNativeBackend);

  it('reads fresh CAPTCHAs like the model\'s training images and decodes them as evaluate does', async () => {
    const loaded = await loadModel(path.join(__dirname, '..', '..', '..', 'models', 'pretrained'));
    const { alphabet, input } = loaded.metadata;
    const [asGenerated, moved] = await evaluateViewsOnFresh(loaded, {
      count: 24,
      seed: 5,
      views: [{ name: 'as generated' }, { name: '3 px up', dy: -3 }],
    });
    const plain = await evaluateModel(loaded.model, freshBatches({ count: 24, seed: 5, input, alphabet, length: 4, captchaVersion: '0.7.0' }), {
      alphabet,
      head: 'ctc',
      textRules: textRulesOf(loaded.metadata),
    });
    assert.equal(asGenerated.view, 'as generated');
    assert.equal(asGenerated.wholeAccuracy, plain.wholeAccuracy);
    assert.equal(asGenerated.characterAccuracy, plain.characterAccuracy);
    assert.ok(plain.wholeAccuracy > 0.8, `the pretrained model reads ${plain.wholeAccuracy} of 24 fresh CAPTCHAs`);
    assert.equal(moved.view, '3 px up');
    loaded.model.dispose();
  });
});
