import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createCrnnNet, loadModel, readModelMetadata, registerModel, SeededDropout } from '../../src/models';
import { createCaptchaStream } from '../../src/data';
import { effectiveConfig, train, type TrainConfig } from '../../src/train';
import { createStreamTrainingData, streamOptions } from '../../src/train/stream-source';
import { tempDir, useNativeBackend, writeToyDataset } from '../helpers';

/** A model small enough to train in a second, registered like any architecture. */
registerModel({
  name: 'toy-test',
  description: 'test-only: one conv, two heads',
  head: 'per-position',
  defaultInput: { height: 24, width: 40, channels: 1 },
  create: ({ height, width, channels, numClasses, numPositions, seed }) => {
    const input = tf.input({ shape: [height, width, channels] });
    let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
    x = new SeededDropout({ rate: 0.2, seed }).apply(x) as tf.SymbolicTensor;
    const outputs = Array.from({ length: numPositions }, (_, i) =>
      tf.layers.dense({ units: numClasses, activation: 'softmax', name: `digit${i + 1}`, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i + 1 }) }).apply(x) as tf.SymbolicTensor,
    );
    return tf.model({ inputs: input, outputs });
  },
});

/** A toy CTC model: columns of a small conv map, a dense layer per column over classes + blank. */
registerModel({
  name: 'toy-ctc-test',
  description: 'test-only: conv columns + per-column dense, CTC',
  head: 'ctc',
  defaultInput: { height: 24, width: 40, channels: 1 },
  create: ({ height, width, channels, numClasses, seed }) => {
    const input = tf.input({ shape: [height, width, channels] });
    let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.permute({ dims: [2, 1, 3] }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reshape({ targetShape: [width / 2, (height / 2) * 8] }).apply(x) as tf.SymbolicTensor;
    const logits = tf.layers.dense({ units: numClasses + 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }).apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: logits });
  },
});

/** A tiny crnn, and the same with a whole-image summary that starts from it (as crnn-wide-context from crnn-wide). */
const TINY_CRNN = { filters: [4, 8], pools: [[2, 2], [2, 1]] as [number, number][], headUnits: 8, headLayers: 1 };
registerModel({
  name: 'toy-crnn-test',
  description: 'test-only: a tiny crnn',
  head: 'ctc',
  defaultInput: { height: 24, width: 40, channels: 1 },
  create: (options) => createCrnnNet({ ...options, ...TINY_CRNN }),
});
registerModel({
  name: 'toy-crnn-context-test',
  description: 'test-only: the tiny crnn with a whole-image summary',
  head: 'ctc',
  defaultInput: { height: 24, width: 40, channels: 1 },
  extends: ['toy-crnn-test'],
  create: (options) => createCrnnNet({ ...options, ...TINY_CRNN, globalContext: 3 }),
});

describe('train', function () {
  this.timeout(120000);
  let work: ReturnType<typeof tempDir>;
  let config: Partial<TrainConfig>;

  before(async () => {
    await useNativeBackend();
    work = tempDir();
    writeToyDataset(path.join(work.dir, 'data'), 120);
    config = {
      model: 'toy-test', alphabet: '0123', length: 2, dataDir: path.join(work.dir, 'data'),
      modelsDir: path.join(work.dir, 'models'), epochs: 3, batchSize: 16, learningRate: 0.01, seed: 5,
    };
  });
  after(() => work.cleanup());

  it('learns the toy task and saves the best model, run.json and a checkpoint', async () => {
    const epochs: number[] = [];
    const { record, runDir, interrupted } = await train({ ...config, run: 'full' }, { callbacks: { onEpochEnd: (m) => epochs.push(m.valWholeAccuracy) } });
    assert.equal(interrupted, false);
    assert.equal(record.history.length, 3);
    assert.ok(record.history[2].loss < record.history[0].loss, 'loss decreases');
    assert.ok(record.best && record.best.valCharacterAccuracy > 0.5, `learned something: ${JSON.stringify(record.best)}`);
    for (const f of ['model.json', 'weights.bin', 'metadata.json', 'run.json', 'checkpoint/state.json', 'checkpoint/optimizer.bin']) {
      assert.ok(fs.existsSync(path.join(runDir, f)), `${f} exists`);
    }
    const saved = JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8'));
    assert.equal(saved.completed, true);
    assert.equal(saved.backend.name, tf.getBackend());
    assert.ok(saved.imagesPerSecond > 0);
    assert.equal(saved.history[0].headAccuracy.length, 2);
    assert.deepEqual(epochs, record.history.map((h) => h.valWholeAccuracy));
    const { metadata } = await loadModel(runDir, 'toy-test');
    assert.deepEqual(metadata.input, { height: 24, width: 40, channels: 1 });
  });

  it('resumes an interrupted run to exactly the weights of an uninterrupted one', async () => {
    const controller = new AbortController();
    const first = await train({ ...config, run: 'parts' }, {
      signal: controller.signal,
      callbacks: { onBatch: (p) => p.epoch === 1 && p.batch === 3 && controller.abort() },
    });
    assert.equal(first.interrupted, true);
    assert.equal(first.record.completed, false);
    const second = await train({ ...config, run: 'parts' }, { resume: true });
    assert.equal(second.interrupted, false);
    // epoch 2's metrics cover the whole epoch, both parts, exactly as in the uninterrupted run
    const full = JSON.parse(fs.readFileSync(path.join(config.modelsDir as string, 'full', 'run.json'), 'utf8'));
    assert.equal(second.record.history.length, 3);
    second.record.history.forEach((h, i) => {
      assert.equal(h.images, full.history[i].images, `epoch ${i + 1} images`);
      assert.ok(Math.abs(h.loss - full.history[i].loss) < 1e-6, `epoch ${i + 1} loss ${h.loss} vs ${full.history[i].loss}`);
      assert.deepEqual(h.headAccuracy, full.history[i].headAccuracy);
    });
    // the run's wall time is the parts' clocks: epochs plus what lies outside them (start-up, saving)
    const epochSeconds = second.record.history.reduce((n, h) => n + h.seconds, 0);
    assert.ok(second.record.wallSeconds > epochSeconds, `${second.record.wallSeconds} vs ${epochSeconds}`);
    const a = (await loadModel(path.join(config.modelsDir as string, 'full', 'checkpoint'))).model;
    const b = (await loadModel(path.join(config.modelsDir as string, 'parts', 'checkpoint'))).model;
    const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(wb, wa);
    a.dispose();
    b.dispose();
  });

  it('records the settings a resume changed, and nothing for an unchanged resume', async () => {
    const controller = new AbortController();
    await train({ ...config, run: 'changed', epochs: 2 }, {
      signal: controller.signal,
      callbacks: { onBatch: (p) => p.epoch === 0 && p.batch === 2 && controller.abort() },
    });
    const same = await train({ ...config, run: 'changed', epochs: 2 }, {
      resume: true,
      signal: controller.signal, // already aborted: stops after one batch
    });
    assert.equal(same.record.resumes, undefined);
    const { record } = await train({ ...config, run: 'changed', epochs: 3, learningRate: 0.005 }, { resume: true });
    assert.equal(record.config.epochs, 2, 'config stays the first part\'s');
    assert.equal(record.resumes?.length, 1);
    assert.deepEqual(record.resumes?.[0].changed, { epochs: { from: 2, to: 3 }, learningRate: { from: config.learningRate, to: 0.005 } });
    assert.equal(effectiveConfig(record).epochs, 3);
    assert.equal(record.history.length, 3);
  });

  it('trains a CTC model through the same loop and reads its validation texts', async () => {
    const { record } = await train({ ...config, run: 'ctc', model: 'toy-ctc-test', epochs: 3, learningRate: 0.02 });
    assert.equal(record.history.length, 3);
    assert.ok(record.history[2].loss < record.history[0].loss, record.history.map((h) => h.loss).join(' '));
    assert.deepEqual(record.history[0].headAccuracy, []);
    assert.ok(Number.isFinite(record.history[2].valLoss));
  });

  it('records an accuracy-versus-training-time curve on part of the validation set', async () => {
    // a period far below one batch's duration: every batch ends past the next due point
    const { record } = await train({ ...config, run: 'curve', epochs: 1, curveEveryMinutes: 1e-9, curveImages: 8 });
    assert.equal(record.curve.length, 7, 'one point per batch (108 images / 16)');
    for (const p of record.curve) assert.equal(p.count, 8);
    const minutes = record.curve.map((p) => p.minutes);
    assert.deepEqual(minutes, [...minutes].sort((a, b) => a - b));
    assert.ok(record.trainedSeconds > 0 && record.trainedImages === 108, `${record.trainedImages}`);
  });

  it('trains on fresh generated images from the stream, reporting the time spent waiting for data', async () => {
    const { record } = await train({
      ...config, run: 'stream', source: 'stream', dataDir: undefined, alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', length: 4,
      height: 60, width: 160, channels: 1, imagesPerEpoch: 64, validationImages: 40, epochs: 2, workers: 1,
    });
    assert.equal(record.history.length, 2);
    assert.equal(record.history[0].images, 64);
    assert.equal(record.history[1].headAccuracy.length, 4);
    assert.ok(record.history[0].dataWaitSeconds >= 0 && record.dataWaitFraction < 1);
    assert.match(record.data, /fresh generated images: 64 per epoch, 40 fixed validation images/);
  });

  it('trains a CTC model on texts of several lengths from the stream and records the range for decoding', async () => {
    const { record, runDir } = await train({
      ...config, run: 'var-ctc', model: 'toy-ctc-test', source: 'stream', dataDir: undefined, alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      minLength: 2, length: 5, height: 60, width: 160, channels: 1, imagesPerEpoch: 32, validationImages: 16, epochs: 1, workers: 0,
    });
    assert.ok(Number.isFinite(record.history[0].loss) && Number.isFinite(record.history[0].valLoss), `${record.history[0].loss}`);
    const { metadata } = await loadModel(runDir);
    assert.equal(metadata.minLength, 2);
    assert.equal(metadata.length, 5);
    assert.equal(metadata.distinctCharacters, true);
    // and the stream it trained on draws 2 to 5 characters
    const stream = createCaptchaStream({ ...streamOptions(effectiveConfig(record), metadata.input, 'check'), batchSize: 64 });
    const { texts } = await stream.next();
    await stream.close();
    assert.deepEqual([...new Set(texts.map((t) => t.length))].sort(), [2, 3, 4, 5]);
  });

  it('trains on a mix of lepture versions and image sizes, each batch resized to the input', async () => {
    const { record, runDir } = await train({
      ...config, run: 'mix', model: 'toy-ctc-test', source: 'stream', dataDir: undefined, alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      length: 4, mix: { versions: ['0.7.0', '0.2.2'], width: [100, 120], height: [40, 50] }, imagesPerEpoch: 32, validationImages: 40, epochs: 1, workers: 0,
    });
    assert.match(record.data, /fresh generated images \(versions 0\.7\.0, 0\.2\.2 at 100-120 x 40-50 px\): 32 per epoch, 40 fixed validation images/);
    assert.ok(Number.isFinite(record.history[0].valLoss), `${record.history[0].valLoss}`);
    assert.deepEqual((await loadModel(runDir)).metadata.input, { height: 24, width: 40, channels: 1 });
    assert.deepEqual(effectiveConfig(record).mix, { versions: ['0.7.0', '0.2.2'], width: [100, 120], height: [40, 50] });
    // every validation image is scored, in blocks of several sizes, each resized to the input
    const data = await createStreamTrainingData(effectiveConfig(record), { height: 24, width: 40, channels: 1 }, 'ctc');
    let count = 0;
    for await (const b of data.validationBatches(16)) {
      assert.deepEqual(b.xs.shape.slice(1), [24, 40, 1]);
      count += b.texts.length;
      b.xs.dispose();
      b.ys.dispose();
    }
    assert.equal(count, 40);
    // a resume (keys of the mix in another order, as a config file may write them) changes nothing but what it says
    const resumed = await train({ run: 'mix', modelsDir: config.modelsDir, epochs: 2, mix: { height: [40, 50], width: [100, 120], versions: ['0.7.0', '0.2.2'] } }, { resume: true });
    assert.deepEqual(resumed.record.resumes?.map((r) => r.changed), [{ epochs: { from: 1, to: 2 } }]);
    assert.equal(resumed.record.history.length, 2);
  });

  it('starts from the weights of a saved model with initFrom, and refuses one of another input or alphabet', async () => {
    const source = path.join(work.dir, 'models', 'full'); // trained by the first test
    const weightsOf = async (dir: string) => Promise.all((await loadModel(dir)).model.getWeights().map(async (w) => Float32Array.from(await w.data())));
    const maxDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((w, i) => Math.max(...w.map((v, j) => Math.abs(v - b[i][j])))));
    // a learning rate too small to move anything: the saved weights are the starting ones
    const still = { ...config, epochs: 1, learningRate: 1e-12 };
    const { runDir } = await train({ ...still, run: 'from-full', initFrom: source });
    const { runDir: fresh } = await train({ ...still, run: 'not-from-full' });
    const original = await weightsOf(source);
    assert.ok(maxDiff(await weightsOf(runDir), original) < 1e-6, 'initFrom did not start from the saved weights');
    assert.ok(maxDiff(await weightsOf(fresh), original) > 1e-2, 'a fresh start matched the saved weights: the check cannot fail');
    // another fit of the same input is a fine-tuning like any other, and the model keeps it for predict
    const { runDir: letterboxed } = await train({ ...still, run: 'letterboxed', fit: 'letterbox', initFrom: source });
    assert.deepEqual(readModelMetadata(letterboxed).input, { height: 24, width: 40, channels: 1, fit: 'letterbox' });
    assert.equal(readModelMetadata(source).input.fit, undefined, 'a stretch model saves no fit (as models saved before it)');
    // fine-tuning a letterbox model keeps its fit unless told otherwise; `stretch` is saved as no fit
    const { runDir: inherited, record } = await train({ ...still, run: 'inherited', initFrom: letterboxed });
    assert.equal(readModelMetadata(inherited).input.fit, 'letterbox');
    assert.equal(effectiveConfig(record).fit, 'letterbox', 'recorded in run.json, so a resume needs no starting model');
    const { runDir: restretched } = await train({ ...still, run: 'restretched', fit: 'stretch', initFrom: letterboxed });
    assert.equal(readModelMetadata(restretched).input.fit, undefined);
    await assert.rejects(train({ ...still, run: 'w', width: 48, resize: true, initFrom: source }), /--init-from '.*full' was trained on 40x24x1 input, this run has 48x24x1; pass --width 40 --height 24 --channels 1/);
    await assert.rejects(train({ ...still, run: 'a', alphabet: '0123456789', initFrom: source }), /--init-from '.*full' reads the alphabet '0123', this run '0123456789'; pass --alphabet '0123'/);
    await assert.rejects(train({ ...still, run: 'm', model: 'toy-ctc-test', initFrom: source }), /holds a 'toy-test' model, not 'toy-ctc-test'/);
    await assert.rejects(train({ ...still, run: 'l', length: 3, initFrom: source }), /--init-from '.*full' has weights of other shapes than this toy-test model: it reads 2 characters, this run 3; pass --length 2/);
  });

  it('starts a larger architecture from the one it extends, and trains only the layers freeze leaves', async () => {
    const { runDir: base } = await train({ ...config, run: 'crnn-base', model: 'toy-crnn-test', epochs: 1 });
    const frozen = ['conv1', 'bn1', 'conv2', 'bn2'];
    const { runDir } = await train({ ...config, run: 'crnn-context', model: 'toy-crnn-context-test', epochs: 1, learningRate: 0.02, initFrom: base, freeze: frozen });
    const [from, tuned] = [(await loadModel(base)).model, (await loadModel(runDir)).model];
    // a batch norm's moving statistics are not trained but tracked: compare its gamma and beta only
    const trained = (m: tf.LayersModel, name: string) => m.getLayer(name).getWeights().slice(0, 2).map((w) => Array.from(w.dataSync()));
    for (const name of frozen) assert.deepEqual(trained(tuned, name), trained(from, name), `frozen layer ${name} moved`);
    assert.notDeepEqual(trained(tuned, 'logits'), trained(from, 'logits'), 'the layers left trainable did not train: the check above could not fail');
    assert.equal(readModelMetadata(runDir).architecture, 'toy-crnn-context-test');
    assert.ok(tuned.layers.every((l) => l.trainable), 'a model saved with frozen layers loads with them frozen');
    [from, tuned].forEach((m) => m.dispose());
    const context = { ...config, model: 'toy-crnn-context-test', epochs: 1 };
    await assert.rejects(train({ ...context, run: 'f1', initFrom: base, freeze: ['conv1', 'conv9'] }), /freeze names 'conv9', which this toy-crnn-context-test model has no weights for; its layers with weights: conv1, bn1, conv2, bn2, context, head1, head1_bn, logits/);
    await assert.rejects(train({ ...context, run: 'f2', freeze: ['conv1'] }), /freeze keeps layers as a trained model left them: set initFrom too/);
    await assert.rejects(train({ ...context, run: 'f4', initFrom: base, freeze: ['conv1', 'context', 'head1'] }), /freeze names 'context', 'head1', which '.*crnn-base' did not train as they are here \(new, or grown with zeros\): they must train/);
    await assert.rejects(
      train({ ...context, run: 'f3', initFrom: path.join(work.dir, 'models', 'full') }),
      /'.*full' holds a 'toy-test' model, not 'toy-crnn-context-test' or one it extends \(toy-crnn-test\); pick the matching --model or another folder/,
    );
  });

  it('leaves no tensors behind: the model and the optimizer go with the run', async () => {
    const ctc = { ...config, model: 'toy-crnn-test', epochs: 1 };
    await train({ ...ctc, run: 'warm-up' }); // the backend's first use allocates what it keeps
    const before = tf.memory().numTensors;
    await train({ ...ctc, run: 'no-leak' });
    await train({ ...config, run: 'no-leak-2', epochs: 2 });
    assert.equal(tf.memory().numTensors, before, `tensors left after training: ${tf.memory().numTensors - before}`);
    // and a resumed run frees the optimizer state it read from its checkpoint
    await train({ ...config, run: 'no-leak-2', epochs: 3 }, { resume: true });
    assert.equal(tf.memory().numTensors, before, `tensors left after resuming: ${tf.memory().numTensors - before}`);
  });

  it("keeps no tensors of a run whose caller's callback throws before the first batch", async () => {
    const before = tf.memory().numTensors;
    const fail = () => {
      throw new Error('the notebook cell failed');
    };
    await assert.rejects(train({ ...config, run: 'cb-start', epochs: 1 }, { callbacks: { onStart: fail } }), /the notebook cell failed/);
    await assert.rejects(train({ ...config, run: 'cb-log', epochs: 1 }, { callbacks: { onLog: fail } }), /the notebook cell failed/);
    assert.equal(tf.memory().numTensors, before, `tensors left by the failed runs: ${tf.memory().numTensors - before}`);
  });

  it('refuses variable-length texts for a per-position model', async () => {
    await assert.rejects(
      train({ ...config, run: 'var', source: 'stream', minLength: 1, length: 2, height: 60, width: 160, imagesPerEpoch: 16, validationImages: 16 }),
      /minLength=1: variable-length texts need a CTC model/,
    );
  });

  it('refuses to overwrite an existing run without resume', async () => {
    await assert.rejects(train({ ...config, run: 'full' }), /run 'full' already exists in .*; pass --resume/);
  });

  it('names a missing dataset, a wrong image size and a corrupt image, and keeps no tensors of the failed run', async () => {
    const before = tf.memory().numTensors;
    await assert.rejects(train({ ...config, run: 'x', dataDir: path.join(work.dir, 'nope') }), /dataset folder '.*nope' does not exist/);
    await assert.rejects(train({ ...config, run: 'y', width: 50 }), /are 40x24 but the model reads 50x24; generate the dataset at that size or enable resizing/);
    const bad = path.join(work.dir, 'bad');
    writeToyDataset(bad, 20);
    fs.writeFileSync(path.join(bad, '7.png'), 'not a png');
    await assert.rejects(train({ ...config, run: 'z', dataDir: bad, validationSplit: 0.5, epochs: 1 }), /image '.*7.png' cannot be read: it is not a PNG or JPEG \(it starts with bytes 6e 6f 74 20\); replace it with an intact copy/);
    assert.equal(tf.memory().numTensors, before, `tensors left by the failed runs: ${tf.memory().numTensors - before}`);
  });
});
