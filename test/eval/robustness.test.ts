import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';
import { checkView, evaluateModel, evaluateViews, evaluateViewsOnFresh, freshBatches, transformImages, type ImageView, type TextBatch } from '../../src/eval';
import { loadModel, textRulesOf } from '../../src/models';
import { logitsModel, useNativeBackend } from '../helpers';

describe('transformImages', () => {
  before(useNativeBackend);

  /** One 3x4 grayscale image whose pixel (r, c) is 10 r + c. */
  const grid = () => tf.tensor4d([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], [1, 3, 4, 1]);
  /** The rows of a one-image batch after a view, as numbers; no tensor left behind. */
  const rowsAfter = (view: Omit<ImageView, 'name'>, make = grid) =>
    tf.tidy(() => transformImages(make(), view).squeeze([0, 3]).arraySync() as number[][]);

  it('moves the content by whole pixels and mirrors the uncovered edge', () => {
    assert.deepEqual(rowsAfter({ dx: 1 }), [
      [0, 0, 1, 2],
      [10, 10, 11, 12],
      [20, 20, 21, 22],
    ]);
    assert.deepEqual(rowsAfter({ dx: -2 }), [
      [2, 3, 3, 2],
      [12, 13, 13, 12],
      [22, 23, 23, 22],
    ]);
    assert.deepEqual(rowsAfter({ dy: -1 }), [
      [10, 11, 12, 13],
      [20, 21, 22, 23],
      [20, 21, 22, 23],
    ]);
    assert.deepEqual(rowsAfter({}), rowsAfter({ dx: 0, dy: 0, scale: 1 }));
    assert.deepEqual(rowsAfter({}), tf.tidy(() => grid().squeeze([0, 3]).arraySync()));
  });

  it('scales about the exact centre, also for even sizes, and keeps the shape', () => {
    // A round blob centred on a 60x160 image (centre 29.5, 79.5): its centroid must not move.
    const blob = () =>
      tf.tidy(() => {
        const ys = tf.range(0, 60).sub(29.5).square().reshape([60, 1]);
        const xs = tf.range(0, 160).sub(79.5).square().reshape([1, 160]);
        return tf.exp(ys.add(xs).div(-2 * 6 * 6)).reshape([1, 60, 160, 1]) as tf.Tensor4D;
      });
    for (const scale of [0.9, 0.95, 1.05, 1.2]) {
      const rows = rowsAfter({ scale }, blob);
      assert.equal(rows.length, 60);
      assert.equal(rows[0].length, 160);
      let mass = 0;
      let cy = 0;
      let cx = 0;
      rows.forEach((row, y) => row.forEach((v, x) => ((mass += v), (cy += v * y), (cx += v * x))));
      assert.ok(Math.abs(cy / mass - 29.5) < 1e-3 && Math.abs(cx / mass - 79.5) < 1e-3, `scale ${scale}: centroid (${cy / mass}, ${cx / mass})`);
    }
    // Growing spreads the blob, shrinking concentrates it: the centre pixel tells which happened.
    assert.ok(rowsAfter({ scale: 1.2 }, blob)[20][79] > rowsAfter({}, blob)[20][79]);
    assert.ok(rowsAfter({ scale: 0.8 }, blob)[20][79] < rowsAfter({}, blob)[20][79]);
  });

  it('keeps a flat background flat when shrinking (mirrored, not zero-filled, borders)', () => {
    const rows = rowsAfter({ scale: 0.8 }, () => tf.fill([1, 60, 160, 1], 0.75) as tf.Tensor4D);
    assert.ok(rows.flat().every((v) => Math.abs(v - 0.75) < 1e-6));
  });

  it('refuses fractional or too wide shifts and extreme scales, naming the view', () => {
    assert.throws(() => checkView({ name: 'half', dx: 0.5 }, 3, 4), { message: "view 'half': dx=0.5 must be a whole number of pixels" });
    assert.throws(() => checkView({ name: 'far', dy: -3 }, 3, 4), { message: "view 'far': dy=-3 moves the whole 4x3 image out; use |dy| < 3" });
    assert.throws(() => checkView({ name: 'big', scale: 2 }, 3, 4), { message: "view 'big': scale=2 must be between 0.5 and 2 (exclusive)" });
    assert.throws(() => rowsAfter({ dy: 3 }), /moves the whole 4x3 image out/);
  });
});

describe('evaluateViews', () => {
  before(useNativeBackend);

  async function* oneBatch(): AsyncGenerator<TextBatch> {
    // Steps read 0, 1, 2, blank (class 3): "012". Moved left, the 0 falls off the image; moved
    // right, the first step is mirrored: 0, 0, 1, 2, and CTC merges the repeated 0.
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

  it('checks every view before reading anything', async () => {
    const model = logitsModel(4, 4);
    let read = 0;
    async function* counted(): AsyncGenerator<TextBatch> {
      for await (const b of oneBatch()) {
        read++;
        yield b;
      }
    }
    await assert.rejects(
      evaluateViews(model, counted(), { alphabet: '012', head: 'ctc', views: [{ name: 'ok' }, { name: 'bad', dx: 9 }] }),
      /view 'bad': dx=9 moves the whole 4x1 image out/,
    );
    assert.equal(read, 1, 'only the first batch, for its size');
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
