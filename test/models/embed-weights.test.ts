import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { createCrnnNet, type CrnnNetOptions } from '../../src/models/crnn-net';
import { embedWeights } from '../../src/models/embed-weights';
import { useNativeBackend } from '../helpers';

const SMALL: Partial<CrnnNetOptions> = { height: 16, width: 32, filters: [4, 8], pools: [[2, 2], [2, 1]], headUnits: 6, numClasses: 3 };

describe('embedWeights', () => {
  before(useNativeBackend);

  it('starts a model with a whole-image summary from one without: same layers copied, the new inputs at zero, the same output', () => {
    const trained = createCrnnNet({ ...SMALL, seed: 2 });
    const larger = createCrnnNet({ ...SMALL, seed: 9, globalContext: 3 });
    const x = tf.randomUniform([3, 16, 32, 1], 0, 1, 'float32', 1);
    const before = tf.tidy(() => (larger.predict(x) as tf.Tensor).sub(trained.predict(x) as tf.Tensor).abs().max().dataSync()[0]);
    assert.ok(before > 1e-3, 'two seeds read alike before embedding: the check below could not fail');
    const report = embedWeights(trained, larger);
    assert.deepEqual(report.embedded, ['head1']);
    assert.deepEqual(report.fresh, ['context']);
    assert.ok(report.copied.includes('conv1') && report.copied.includes('logits'));
    const after = tf.tidy(() => (larger.predict(x) as tf.Tensor).sub(trained.predict(x) as tf.Tensor).abs().max().dataSync()[0]);
    assert.ok(after < 1e-5, `embedded model reads differently: ${after}`);
    // the summary's rows of the first head layer are zero, the rest is the trained kernel
    const [kernel] = larger.getLayer('head1').getWeights();
    const inputs = (trained.getLayer('head1').getWeights()[0].shape as number[])[1];
    assert.equal(tf.tidy(() => kernel.slice([0, inputs, 0], [-1, -1, -1]).abs().max().dataSync()[0]), 0);
    tf.dispose(x);
    trained.dispose();
    larger.dispose();
  });

  it('refuses a source whose layers would be lost or do not fit, and changes nothing', () => {
    const plain = createCrnnNet({ ...SMALL, seed: 2, headLayers: 1 });
    const deeper = createCrnnNet({ ...SMALL, seed: 9, headLayers: 2 });
    const larger = createCrnnNet({ ...SMALL, seed: 9, headLayers: 1, globalContext: 3 });
    const snapshot = plain.getWeights().map((w) => Array.from(w.dataSync()));
    assert.throws(() => embedWeights(deeper, plain), /the source's layers head2, head2_bn have no counterpart here, so their training would be lost/);
    assert.throws(() => embedWeights(larger, plain), /layer 'head1' has a 3x35x6 weight in the source that does not fit in this model's 3x32x6/);
    // more outputs would not read as before: only a kernel's inputs may grow
    const narrow = createCrnnNet({ ...SMALL, seed: 3, headLayers: 1, headUnits: 3 });
    assert.throws(() => embedWeights(narrow, plain), /layer 'head1' has a 3x32x3 weight in the source that does not fit in this model's 3x32x6 \(only a kernel's inputs may grow\)/);
    assert.deepEqual(plain.getWeights().map((w) => Array.from(w.dataSync())), snapshot, 'a refused embedding changed weights');
    [plain, deeper, larger, narrow].forEach((m) => m.dispose());
  });
});
