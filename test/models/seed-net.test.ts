import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { createModel, formatSummary, getModelSpec, listModels, loadModel, saveModel, summarizeModel } from '../../src/models';
import { tempDir, useNativeBackend } from '../helpers';

describe('seed network', () => {
  before(useNativeBackend);

  it('has the original layout: 8 valid 3x3 ReLU convs, 4 pools, dropout 0.2, heads digit1..digit4', () => {
    const model = createModel('seed');
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
    assert.deepEqual(convs.map((l) => (l.getConfig() as { filters: number }).filters), [32, 32, 64, 64, 128, 128, 256, 256]);
    for (const conv of convs) {
      const cfg = conv.getConfig() as { kernelSize: number[]; padding: string; activation: string };
      assert.deepEqual(cfg.kernelSize, [3, 3]);
      assert.equal(cfg.padding, 'valid');
      assert.equal(cfg.activation, 'relu');
    }
    const pools = model.layers.filter((l) => l.getClassName() === 'MaxPooling2D');
    assert.equal(pools.length, 4);
    for (const p of pools) assert.deepEqual((p.getConfig() as { strides: number[] }).strides, [2, 2]);
    const dropout = model.layers.find((l) => l.getClassName() === 'SeededDropout');
    assert.equal((dropout?.getConfig() as { rate: number }).rate, 0.2);
    assert.deepEqual(model.outputNames, ['digit1', 'digit2', 'digit3', 'digit4']);
    assert.deepEqual(model.inputs[0].shape, [null, 80, 170, 3]);
    model.outputs.forEach((o) => assert.deepEqual(o.shape, [null, 36]));
    model.dispose();
  });

  it('counts parameters like Keras does for the same network', () => {
    const model = createModel('seed');
    const summary = summarizeModel(model);
    // Convs: sum of (9*cin+1)*cout; flatten 6x1x256 = 1536 features; heads 4 x (1536*36+36).
    const convParams = [[3, 32], [32, 32], [32, 64], [64, 64], [64, 128], [128, 128], [128, 256], [256, 256]]
      .reduce((n, [cin, cout]) => n + (9 * cin + 1) * cout, 0);
    assert.equal(summary.totalParams, convParams + 4 * (1536 * 36 + 36));
    assert.equal(summary.trainableParams, summary.totalParams);
    assert.match(formatSummary(summary), /digit4 \(Dense\)\s+\[null,36\]\s+55,332/);
    model.dispose();
  });

  it('builds the same initial weights for the same seed, different ones for another seed', () => {
    const w = (seed: number) => {
      const m = createModel('seed', { seed });
      const v = Array.from(m.getWeights()[0].dataSync().slice(0, 20));
      m.dispose();
      return v;
    };
    assert.deepEqual(w(3), w(3));
    assert.notDeepEqual(w(3), w(4));
  });

  it('refuses unknown architectures and bad sizes with a clear message', () => {
    assert.throws(() => getModelSpec('nope'), /unknown model 'nope'; registered models: .*seed/);
    assert.throws(() => createModel('seed', { height: 0 }), /model option height=0 must be a positive integer/);
    assert.ok(listModels().map((s) => s.name).includes('seed'));
  });
});

describe('saveModel / loadModel', () => {
  before(useNativeBackend);
  const meta = { architecture: 'seed', alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', input: { height: 80, width: 80, channels: 3 } };

  it('round-trips weights and metadata through a folder, leaving no temporary files', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const model = createModel('seed', { height: 80, width: 80, numPositions: 2 });
      await saveModel(model, `${dir}/m`, meta);
      await saveModel(model, `${dir}/m`, meta); // overwriting an existing model works too
      const { model: loaded, metadata } = await loadModel(`${dir}/m`, 'seed');
      assert.deepEqual(metadata, meta);
      const x = tf.randomUniform([2, 80, 80, 3]);
      const a = (model.predict(x) as tf.Tensor[])[1].dataSync();
      const b = (loaded.predict(x) as tf.Tensor[])[1].dataSync();
      assert.deepEqual(Array.from(b), Array.from(a));
      assert.deepEqual(fs.readdirSync(dir), ['m']);
      x.dispose();
      model.dispose();
      loaded.dispose();
    } finally {
      cleanup();
    }
  });

  it('refuses a missing folder and a model of another architecture', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await assert.rejects(loadModel(`${dir}/none`), /no model in '.*none': the folder does not exist/);
      const model = createModel('seed', { height: 80, width: 80 });
      await saveModel(model, `${dir}/m`, meta);
      await assert.rejects(loadModel(`${dir}/m`, 'crnn'), /holds a 'seed' model, not 'crnn'/);
      model.dispose();
    } finally {
      cleanup();
    }
  });
});

describe('seed-bn network', () => {
  before(useNativeBackend);

  it('is the seed network with batch normalisation and then ReLU after every convolution', () => {
    const model = createModel('seed-bn');
    const kinds = model.layers.map((l) => l.getClassName()).filter((k) => ['Conv2D', 'BatchNormalization', 'ReLU', 'MaxPooling2D'].includes(k));
    const block = ['Conv2D', 'BatchNormalization', 'ReLU', 'Conv2D', 'BatchNormalization', 'ReLU', 'MaxPooling2D'];
    assert.deepEqual(kinds, [...block, ...block, ...block, ...block]);
    const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
    assert.deepEqual(convs.map((l) => (l.getConfig() as { filters: number }).filters), [32, 32, 64, 64, 128, 128, 256, 256]);
    for (const conv of convs) assert.equal((conv.getConfig() as { activation: string }).activation, 'linear');
    assert.deepEqual(model.outputNames, ['digit1', 'digit2', 'digit3', 'digit4']);
    // the seed network's parameters plus 4 per channel of each batch norm (2 of them trainable)
    const seed = createModel('seed');
    const channels = 2 * (32 + 64 + 128 + 256);
    const bn = summarizeModel(model);
    assert.equal(bn.totalParams, summarizeModel(seed).totalParams + 4 * channels);
    assert.equal(bn.trainableParams, summarizeModel(seed).totalParams + 2 * channels);
    seed.dispose();
    model.dispose();
  });
});
