import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { availableFusedKernels, FUSED_KERNEL_NAMES, type FusedKernelName } from '../../src/backend/fused';
import { SeededDropout } from '../../src/models/seeded-dropout';
import { createTrainStep, type StepResult } from '../../src/train/step';
import { useNativeBackend } from '../helpers';

const H = 12;
const W = 16;
const CLASSES = 5;
const HEADS = 2;

/** Every layer kind the fast path knows, plus some it runs as they are (pool, flatten, dropout). */
function tinyModel(options: { sharedHead?: boolean } = {}): tf.LayersModel {
  let seed = 1;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const input = tf.input({ shape: [H, W, 1] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init() }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, activation: 'relu', kernelInitializer: init(), biasInitializer: 'ones' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  x = new SeededDropout({ rate: 0.2, seed: 3 }).apply(x) as tf.SymbolicTensor;
  if (options.sharedHead) {
    // One layer used twice: not walkable layer by layer.
    const shared = tf.layers.dense({ units: 36, activation: 'relu', kernelInitializer: init() });
    x = shared.apply(shared.apply(x) as tf.SymbolicTensor) as tf.SymbolicTensor;
  }
  const outputs = Array.from({ length: HEADS }, () =>
    tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: init() }).apply(x) as tf.SymbolicTensor,
  );
  return tf.model({ inputs: input, outputs });
}

const batch = () => ({
  xs: tf.randomUniform([8, H, W, 1], 0, 1, 'float32', 7) as tf.Tensor4D,
  ys: tf.tensor2d([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0], [8, HEADS], 'int32'),
});

function relError(expected: tf.Tensor, actual: tf.Tensor): number {
  return tf.tidy(() => {
    const scale = tf.max(tf.abs(expected)).dataSync()[0];
    return tf.max(tf.abs(tf.sub(expected, actual))).dataSync()[0] / (scale || 1);
  });
}

interface Run {
  losses: number[];
  correct: number[][];
  weights: tf.Tensor[];
  optimizerWeights: tf.Tensor[];
  info: ReturnType<typeof createTrainStep>['info'];
}

/** Trains a fresh tiny model for `steps` steps and returns what it left behind. */
async function train(steps: number, options: Parameters<typeof createTrainStep>[2], model = tinyModel()): Promise<Run> {
  const optimizer = tf.train.adam(0.01);
  const step = createTrainStep(model, optimizer, options);
  const { xs, ys } = batch();
  const losses: number[] = [];
  const correct: number[][] = [];
  for (let i = 0; i < steps; i++) {
    const r: StepResult = step(xs, ys);
    losses.push((await r.loss.data())[0]);
    correct.push(Array.from(await r.correct.data()));
    tf.dispose([r.loss, r.correct]);
  }
  const weights = model.getWeights().map((w) => w.clone());
  const optimizerWeights = (await optimizer.getWeights()).map((w) => w.tensor.clone());
  step.dispose();
  optimizer.dispose();
  model.dispose();
  tf.dispose([xs, ys]);
  return { losses, correct, weights, optimizerWeights, info: step.info };
}

function assertSameTraining(actual: Run, expected: Run, what: string): void {
  actual.losses.forEach((l, i) => assert.ok(Math.abs(l - expected.losses[i]) / expected.losses[i] < 1e-4, `${what}: losses ${actual.losses} vs ${expected.losses}`));
  assert.deepEqual(actual.correct, expected.correct, `${what}: correct per head`);
  assert.equal(actual.weights.length, expected.weights.length);
  // Model weights include batch normalisation's moving mean and variance.
  actual.weights.forEach((w, i) => {
    const err = relError(expected.weights[i], w);
    assert.ok(err < 1e-4, `${what}: weight ${i} ${w.shape} relative error ${err.toExponential(2)}`);
  });
  assert.equal(actual.optimizerWeights.length, expected.optimizerWeights.length);
  actual.optimizerWeights.forEach((w, i) => {
    const err = relError(expected.optimizerWeights[i], w);
    assert.ok(err < 1e-4, `${what}: optimizer weight ${i} relative error ${err.toExponential(2)}`);
  });
}

describe('createTrainStep', function () {
  this.timeout(60000);
  let plain: Run;

  before(async () => {
    await useNativeBackend();
    plain = await train(3, { fast: false });
  });

  it('takes the fast path on tfjs-node by default, with every replacement', async () => {
    const run = await train(1, {});
    assert.equal(run.info.fast, true);
    // All of them where TensorFlow ships oneDNN (x86); elsewhere all but maxPoolGrad.
    assert.deepEqual(run.info.kernels, availableFusedKernels());
    assert.ok(run.info.kernels.length >= FUSED_KERNEL_NAMES.length - 1, run.info.kernels.join(' '));
    assert.deepEqual(run.info.layers, { convBiasRelu: 2, batchNorm: 1, apply: 4, logits: 2 });
    assert.equal(plain.info.fast, false);
    assert.deepEqual(plain.info.kernels, []);
  });

  it('trains exactly like the plain path: losses, weights, batch-norm statistics, Adam state', async () => {
    assertSameTraining(await train(3, { fast: true }), plain, 'fast');
  });

  for (const off of FUSED_KERNEL_NAMES) {
    it(`trains the same with ${off} switched off`, async () => {
      const kernels = FUSED_KERNEL_NAMES.filter((k) => k !== off);
      const run = await train(3, { kernels });
      assert.deepEqual(run.info.kernels, kernels.filter((k) => availableFusedKernels().includes(k)));
      assertSameTraining(run, plain, `without ${off}`);
    });
  }

  it('runs a model it cannot walk layer by layer through model.apply', async () => {
    const fast = await train(2, {}, tinyModel({ sharedHead: true }));
    const slow = await train(2, { fast: false }, tinyModel({ sharedHead: true }));
    assert.equal(fast.info.layers, undefined);
    assertSameTraining(fast, slow, 'shared layer');
  });

  it('leaves no tensor behind from one step to the next', () => {
    const model = tinyModel();
    const optimizer = tf.train.adam(0.01);
    const step = createTrainStep(model, optimizer);
    const { xs, ys } = batch();
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = step(xs, ys);
      tf.dispose([r.loss, r.correct]);
      counts.push(tf.memory().numTensors);
    }
    // The first step creates the optimizer's moments; after that nothing may accumulate.
    assert.deepEqual(counts.slice(2), [counts[1], counts[1]], counts.join(' '));
    step.dispose();
    optimizer.dispose();
    model.dispose();
    tf.dispose([xs, ys]);
  });

  it('takes the plain path elsewhere and refuses fast: true there', async () => {
    await tf.setBackend('cpu');
    try {
      const model = tinyModel();
      assert.equal(createTrainStep(model, tf.train.adam(0.01)).info.fast, false);
      assert.throws(
        () => createTrainStep(model, tf.train.adam(0.01), { fast: true }),
        /train step option fast=true needs the 'tensorflow' backend \(@tensorflow\/tfjs-node\), but the active backend is 'cpu'; use fast: 'auto' or false/,
      );
      model.dispose();
    } finally {
      await tf.setBackend('tensorflow');
    }
  });

  it('names bad options', () => {
    const model = tinyModel();
    assert.throws(() => createTrainStep(model, tf.train.adam(0.01), { fast: 'yes' as never }), /train step option fast=yes must be true, false or 'auto'/);
    assert.throws(
      () => createTrainStep(model, tf.train.adam(0.01), { kernels: ['warp' as FusedKernelName] }),
      /unknown fused kernel 'warp' in train step option kernels; known: reluGrad, maxPoolGrad, convBiasRelu/,
    );
    model.dispose();
  });
});
