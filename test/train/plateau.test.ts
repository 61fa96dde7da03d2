import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { train, type TrainConfig } from '../../src/train';
import { ESCAPE_LOSS_WINDOW, deadUnitFraction, lastConvReluLayer } from '../../src/train/plateau';
import { registerPlateauToyModels, reluToyNet, tempDir, useNativeBackend, writeToyDataset } from '../helpers';

registerPlateauToyModels();

describe('plateau detection', function () {
  this.timeout(120000);
  let work: ReturnType<typeof tempDir>;
  let config: Partial<TrainConfig>;

  before(async () => {
    await useNativeBackend();
    work = tempDir();
    writeToyDataset(path.join(work.dir, 'data'), 120);
    // 108 training images in batches of 4: 27 steps an epoch
    config = {
      alphabet: '0123', length: 2, dataDir: path.join(work.dir, 'data'), modelsDir: path.join(work.dir, 'models'),
      epochs: 3, batchSize: 4, learningRate: 0.01, seed: 5, plateauProbeEvery: 3, plateauProbeImages: 8, stuckAfterSteps: 9,
    };
  });
  after(() => work.cleanup());

  it("finds the last convolution's ReLU output, in the convolution or in a ReLU layer after it", () => {
    const model = reluToyNet(0, 1);
    assert.equal(lastConvReluLayer(model)?.name, 'last_conv');
    const input = tf.input({ shape: [8, 8, 1] });
    let x = tf.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
    const relu = tf.layers.reLU({ name: 'after_bn' });
    x = relu.apply(x) as tf.SymbolicTensor;
    const bn = tf.model({ inputs: input, outputs: tf.layers.flatten().apply(x) as tf.SymbolicTensor });
    assert.equal(lastConvReluLayer(bn)?.name, 'after_bn');
    const linear = tf.model({ inputs: input, outputs: tf.layers.conv2d({ filters: 2, kernelSize: 3 }).apply(input) as tf.SymbolicTensor });
    assert.equal(lastConvReluLayer(linear), null);
    [model, bn, linear].forEach((m) => m.dispose());
  });

  it('counts the units that fire on none of the images: all for a large negative bias, few for a healthy layer', async () => {
    const xs = tf.randomUniform([6, 24, 40, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const halves = [xs.slice(0, 3), xs.slice(3)];
    const one = xs.slice(0, 1);
    const dead = reluToyNet(-1000, 1);
    const healthy = reluToyNet(0, 1);
    const before = tf.memory().numTensors;
    assert.equal(await deadUnitFraction(dead, lastConvReluLayer(dead)!, [xs]), 1);
    const alive = await deadUnitFraction(healthy, lastConvReluLayer(healthy)!, halves);
    assert.ok(alive < 0.9, `healthy: ${alive} dead`);
    // units are counted over every image: one image alone leaves at least as many silent
    assert.ok(alive <= (await deadUnitFraction(healthy, lastConvReluLayer(healthy)!, [one])));
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
    tf.dispose([xs, one, ...halves]);
    [dead, healthy].forEach((m) => m.dispose());
  });

  it('declares a dead network stuck, stops it with a checkpoint, and stops a resume at once', async () => {
    const first = await train({ ...config, model: 'plateau-dead-test', run: 'dead' }, { stopWhenStuck: true });
    assert.equal(first.stopped, 'stuck');
    assert.equal(first.interrupted, false);
    const plateau = first.record.plateau!;
    assert.deepEqual(plateau.stuck, { step: 0, declaredAt: 9 }, 'dead from the first probe, declared 9 steps later');
    assert.equal(plateau.outcome, 'stuck');
    assert.deepEqual(plateau.stopped, { step: 9, because: 'stuck' });
    assert.deepEqual(plateau.probes.map((p) => p.step), [0, 3, 6, 9]);
    assert.ok(plateau.probes.every((p) => p.deadFraction === 1));
    assert.equal(first.record.trainedImages, 9 * 4);
    const saved = JSON.parse(fs.readFileSync(path.join(first.runDir, 'run.json'), 'utf8'));
    assert.equal(saved.plateau.outcome, 'stuck');
    assert.ok(fs.existsSync(path.join(first.runDir, 'checkpoint', 'state.json')));

    const again = await train({ ...config, model: 'plateau-dead-test', run: 'dead' }, { resume: true, stopWhenStuck: true });
    assert.equal(again.stopped, 'stuck');
    assert.equal(again.record.trainedImages, 9 * 4, 'no step trained');

    // without the stop rule, --resume trains on; the dead network never counts as escaped
    const rest = await train({ ...config, model: 'plateau-dead-test', run: 'dead' }, { resume: true });
    assert.equal(rest.stopped, null);
    assert.equal(rest.record.completed, true);
    assert.equal(rest.record.plateau!.outcome, 'stuck');
    assert.equal(rest.record.plateau!.stopped, null);
    assert.equal(rest.record.plateau!.probes.at(-1)!.step, 81);
  });

  it('never calls a dead network escaped, even when label frequencies push its loss below chance', async () => {
    const skewed = path.join(work.dir, 'skewed');
    writeToyDataset(skewed, 120);
    // every label '00': the heads' biases alone drive the loss towards 0
    fs.writeFileSync(path.join(skewed, 'labels.txt'), Array(120).fill('00').join('\n') + '\n');
    const { record } = await train({ ...config, model: 'plateau-dead-test', run: 'skewed', dataDir: skewed, epochs: 3 });
    const plateau = record.plateau!;
    assert.ok(record.history[2].loss < plateau.escapeBelow!, `loss ${record.history[2].loss} is below the escape line ${plateau.escapeBelow}`);
    assert.equal(plateau.escaped, null);
    assert.equal(plateau.outcome, 'stuck');
  });

  it('lets a healthy network learn: never stuck, escaped once the running loss is clearly below chance', async () => {
    const { record, stopped } = await train({ ...config, model: 'plateau-healthy-test', run: 'healthy' });
    assert.equal(stopped, null);
    const plateau = record.plateau!;
    assert.equal(plateau.chanceLoss, 2 * Math.log(4));
    assert.equal(plateau.stuck, null);
    assert.ok(plateau.probes.length > 0, 'probed');
    assert.ok(plateau.probes.every((p) => p.deadFraction < 1));
    assert.equal(plateau.outcome, 'escaped');
    assert.ok(plateau.escaped!.step >= ESCAPE_LOSS_WINDOW && plateau.escaped!.loss < plateau.escapeBelow!, JSON.stringify(plateau.escaped));
    assert.equal(plateau.recentLosses.length, ESCAPE_LOSS_WINDOW);
  });

  it('stops an escaped run when asked, and a resume decides exactly as an uninterrupted run', async () => {
    const { record: full } = await train({ ...config, model: 'plateau-healthy-test', run: 'healthy-full' });
    const { record, stopped } = await train({ ...config, model: 'plateau-healthy-test', run: 'healthy-stop' }, { stopWhenEscaped: true });
    assert.equal(stopped, 'escaped');
    assert.equal(record.plateau!.escaped!.step, full.plateau!.escaped!.step);
    assert.equal(record.trainedImages, 4 * record.plateau!.escaped!.step);
    const { record: resumed } = await train({ ...config, model: 'plateau-healthy-test', run: 'healthy-stop' }, { resume: true });
    assert.deepEqual(resumed.plateau!.probes, full.plateau!.probes);
    assert.deepEqual(resumed.plateau!.escaped, full.plateau!.escaped);
  });

  it('refuses the stop rules when nothing can be probed, with the fix', async () => {
    await assert.rejects(
      train({ ...config, model: 'plateau-healthy-test', run: 'off', plateauProbeEvery: 0 }, { stopWhenStuck: true }),
      /plateauProbeEvery 0 turns off; set --plateau-probe-every > 0/,
    );
  });
});
