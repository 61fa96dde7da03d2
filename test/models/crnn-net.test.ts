import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  DEFAULT_CRNN_NET_OPTIONS,
  createCrnnNet,
  crnnDecode,
  crnnLoss,
  crnnTimeSteps,
  type CrnnNetOptions,
} from '../../src/models/crnn-net';
import { CRNN_CONTEXT_UNITS, CRNN_WIDE_FILTERS, createModel, getModelSpec } from '../../src/models/registry';
import { ctcGreedyDecode, ctcIndicesToText, textsToCtcLabels } from '../../src/models/ctc';

let nativeLoaded = false;
try {
  require('@tensorflow/tfjs-node');
  nativeLoaded = tf.findBackend('tensorflow') != null;
} catch {
  // the pure-JS cpu backend runs the same tests, more slowly, without the save/load round trip
}

/** A small configuration: 16x32 grayscale, two conv blocks, T = 32 / 2 = 16. */
const TINY: Partial<CrnnNetOptions> = {
  height: 16,
  width: 32,
  channels: 1,
  numClasses: 3,
  filters: [4, 8],
  pools: [
    [2, 2],
    [2, 1],
  ],
  headUnits: 16,
  headLayers: 1,
};

describe('createCrnnNet', () => {
  // Other test files may switch backends; these tests run on the native one when it is there.
  before(async () => {
    if (nativeLoaded) await tf.setBackend('tensorflow');
  });

  it('maps [B, 64, 160, 1] images to [B, 40, 37] logits by default', () => {
    const model = createCrnnNet();
    assert.deepEqual(model.inputs[0].shape, [null, 64, 160, 1]);
    assert.deepEqual(model.outputs[0].shape, [null, 40, 37]);
    assert.equal(crnnTimeSteps(), 40);
    model.dispose();
  });

  it('is registered as crnn-wide with wider late conv blocks and the same output', () => {
    const model = createModel('crnn-wide', { height: 60, width: 160, channels: 1 });
    const filtersOf = (name: string) => (model.getLayer(name).getWeights()[0].shape as number[])[3];
    assert.deepEqual(['conv1', 'conv2', 'conv3', 'conv4'].map(filtersOf), CRNN_WIDE_FILTERS);
    assert.deepEqual(model.outputs[0].shape, [null, 40, 37]);
    assert.equal(getModelSpec('crnn-wide').head, 'ctc');
    model.dispose();
  });

  it('sees 42 input px around each step (default pools, two conv1d layers), and the whole image with globalContext', () => {
    // small filters, the default pools and head; step 16 reads input columns 64-67
    const options: Partial<CrnnNetOptions> = { height: 32, width: 128, filters: [4, 8, 8, 8], headUnits: 8, numClasses: 3, seed: 7 };
    const image = tf.randomUniform([1, 32, 128, 1], 0, 1, 'float32', 3);
    /** How far step 16's output moves when input column `column` is blanked. */
    const stepMoves = (net: tf.LayersModel, column: number) =>
      tf.tidy(() => {
        const keep = tf.scalar(1).sub(tf.oneHot(tf.tensor1d([column], 'int32'), 128).reshape([1, 1, 128, 1]));
        const [a, b] = [image, image.mul(keep)].map((x) => (net.predict(x) as tf.Tensor).slice([0, 16, 0], [1, 1, -1]));
        return a.sub(b).abs().max().dataSync()[0];
      });
    const local = createCrnnNet(options);
    const global = createCrnnNet({ ...options, globalContext: 5 });
    // columns 45-86: 42 px; 26 from the conv blocks, 2 x 2 steps of 4 px from the head
    assert.ok(stepMoves(local, 45) > 0 && stepMoves(local, 86) > 0, 'step 16 should see columns 45 and 86');
    assert.equal(stepMoves(local, 44), 0, 'step 16 sees column 44');
    assert.equal(stepMoves(local, 87), 0, 'step 16 sees column 87');
    assert.ok(stepMoves(global, 0) > 1e-6 && stepMoves(global, 127) > 1e-6, 'with globalContext, step 16 should see the far columns');
    assert.deepEqual(global.outputs[0].shape, [null, 32, 4]);
    assert.equal(global.getLayer('context').getWeights()[0].shape[1], 5);
    assert.throws(() => createCrnnNet({ ...options, globalContext: 1.5 }), /globalContext=1.5 must be a whole number of units, 0 for none/);
    image.dispose();
    local.dispose();
    global.dispose();
  });

  it('is registered as crnn-wide-context: crnn-wide with the whole-image summary, starting from crnn-wide', () => {
    const model = createModel('crnn-wide-context', { height: 60, width: 160, channels: 1 });
    assert.equal(model.getLayer('context').getWeights()[0].shape[1], CRNN_CONTEXT_UNITS);
    assert.deepEqual(model.outputs[0].shape, [null, 40, 37]);
    assert.deepEqual(getModelSpec('crnn-wide-context').extends, ['crnn-wide']);
    assert.ok((model.countParams() * 4) / 1e6 < 20, 'under the 20 MB limit');
    model.dispose();
  });

  it('accepts the CAPTCHAs\' own 60x160 RGB size', () => {
    const model = createCrnnNet({ height: 60, channels: 3 });
    assert.deepEqual(model.outputs[0].shape, [null, 40, 37]);
    model.dispose();
  });

  it('has the parameter count of its layers (tiny configuration, counted by hand)', () => {
    // conv1 3*3*1*4 = 36, bn1 4*4 = 16, conv2 3*3*4*8 = 288, bn2 4*8 = 32;
    // pooled map 4 x 16 x 8 -> sequence [16, 32]; conv1d 3*32*16 = 1536, bn 4*16 = 64;
    // logits 16*4 + 4 = 68. Total 2040.
    const model = createCrnnNet(TINY);
    assert.equal(model.countParams(), 2040);
    assert.deepEqual(model.outputs[0].shape, [null, 16, 4]);
    model.dispose();
  });

  it('keeps the default model well under the 20 MB limit', () => {
    for (const head of ['conv1d', 'dense', 'bigru'] as const) {
      const model = createCrnnNet({ head, headUnits: head === 'bigru' ? 128 : 256 });
      const megabytes = (model.countParams() * 4) / 1e6;
      assert.ok(megabytes > 1 && megabytes < 20, `${head}: ${megabytes} MB`);
      model.dispose();
    }
  });

  for (const head of ['conv1d', 'bigru', 'dense'] as const) {
    it(`builds the ${head} head with one output step per pooled column`, () => {
      const model = createCrnnNet({ ...TINY, head });
      const y = model.predict(tf.zeros([2, 16, 32, 1])) as tf.Tensor;
      assert.deepEqual(y.shape, [2, 16, 4]);
      tf.dispose([y]);
      model.dispose();
    });
  }

  it('builds the same weights for the same seed and different ones for another seed', () => {
    const weightsOf = (seed: number) => {
      const m = createCrnnNet({ ...TINY, seed });
      const w = Array.from(m.getLayer('conv1').getWeights()[0].dataSync());
      m.dispose();
      return w;
    };
    assert.deepEqual(weightsOf(3), weightsOf(3));
    assert.notDeepEqual(weightsOf(3), weightsOf(4));
  });

  it('learns a tiny synthetic batch with CTC: the loss falls and decoding reads the labels back', async function () {
    this.timeout(30000);
    const model = createCrnnNet({ ...TINY, seed: 7 });
    const xs = tf.randomUniform([6, 16, 32, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    // Different lengths, a repeat that needs a blank between ('aa') and an empty label.
    const texts = ['ab', 'c', 'bca', 'aa', '', 'cb'];
    const labels = textsToCtcLabels(texts, 'abc');
    const optimizer = tf.train.adam(0.02);
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const loss = optimizer.minimize(() => crnnLoss(model, xs, labels), true) as tf.Scalar;
      losses.push(loss.dataSync()[0]);
      loss.dispose();
    }
    assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
    assert.ok(losses[29] < 0.1 * losses[0], `loss went from ${losses[0]} to ${losses[29]}`);
    // Batch statistics, as during training: 30 steps are too few for the moving averages.
    const logits = model.apply(xs, { training: true }) as tf.Tensor3D;
    assert.deepEqual(ctcIndicesToText(await ctcGreedyDecode(logits), 'abc'), texts);
    tf.dispose([xs, logits]);
    optimizer.dispose();
    model.dispose();
  });

  it('leaves the tensor count unchanged after predict, crnnDecode and an evaluation loss', async () => {
    const model = createCrnnNet(TINY);
    const xs = tf.zeros([3, 16, 32, 1]) as tf.Tensor4D;
    const labels = textsToCtcLabels(['a', 'bc', ''], 'abc');
    const before = tf.memory().numTensors;
    (model.predict(xs) as tf.Tensor).dispose();
    const texts = await crnnDecode(model, xs, 'abc');
    crnnLoss(model, xs, labels, { training: false }).dispose();
    assert.equal(tf.memory().numTensors, before);
    assert.equal(texts.length, 3);
    assert.ok(texts.every((t) => /^[abc]*$/.test(t)), `decoded ${texts}`);
    xs.dispose();
    model.dispose();
  });

  (nativeLoaded ? it : it.skip)('round-trips through save and load with the same predictions', async () => {
    const model = createCrnnNet({ ...TINY, dropout: 0.1 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crnn-'));
    try {
      await model.save(`file://${dir}`);
      const loaded = await tf.loadLayersModel(`file://${dir}/model.json`);
      const xs = tf.randomUniform([2, 16, 32, 1], 0, 1, 'float32', 9);
      const a = model.predict(xs) as tf.Tensor;
      const b = loaded.predict(xs) as tf.Tensor;
      assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
      tf.dispose([xs, a, b]);
      loaded.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });

  it('rejects bad options with errors that say what to fix', () => {
    assert.throws(() => createCrnnNet({ height: 0 }), /^Error: createCrnnNet: height=0 must be a positive integer$/);
    assert.throws(
      () => createCrnnNet({ filters: [8, 8] }),
      /^Error: createCrnnNet: pools has 4 entries but filters has 2; give one \[h, w\] pool per conv block$/,
    );
    assert.throws(
      () => createCrnnNet({ height: 8 }),
      /^Error: createCrnnNet: a 8x160 input pools down to 0x40; use a larger input or fewer\/smaller pools$/,
    );
    assert.throws(
      () => createCrnnNet({ head: 'lstm' as CrnnNetOptions['head'] }),
      /^Error: createCrnnNet: head 'lstm' is not one of 'conv1d', 'bigru', 'dense'$/,
    );
    assert.throws(() => createCrnnNet({ dropout: 1 }), /^Error: createCrnnNet: dropout=1 must be in \[0, 1\)$/);
  });

  it('takes its defaults from DEFAULT_CRNN_NET_OPTIONS, also for keys given as undefined', () => {
    const model = createCrnnNet({ width: undefined, numClasses: 10 });
    assert.deepEqual(model.outputs[0].shape, [null, DEFAULT_CRNN_NET_OPTIONS.width / 4, 11]);
    model.dispose();
  });
});
