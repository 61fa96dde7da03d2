import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { activeBackend, BACKEND_ENV_VAR, gpuVisible, initWasmBackend, selectBackend } from '../../src/backend';
import { createTrainStep } from '../../src/train';
import { useNativeBackend } from '../helpers';

/** A two-layer conv model and one fixed batch: enough to see a loss go down. */
function tinyProblem() {
  const input = tf.input({ shape: [12, 16, 1] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: [out] });
  const xs = tf.randomUniform([8, 12, 16, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const ys = tf.tensor2d([0, 1, 2, 0, 1, 2, 0, 1], [8, 1], 'int32');
  return { model, xs, ys };
}

async function lossesOn(backend: string, steps: number): Promise<number[]> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const { model, xs, ys } = tinyProblem();
    const step = createTrainStep(model, tf.train.adam(0.05));
    const losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const r = step(xs, ys);
      losses.push((await r.loss.data())[0]);
      tf.dispose([r.loss, r.correct]);
    }
    tf.dispose([xs, ys]);
    model.dispose();
    return losses;
  } finally {
    await tf.setBackend(previous);
  }
}

describe('selectBackend', () => {
  before(useNativeBackend);

  it('picks the native TensorFlow backend on this machine', () => {
    const info = activeBackend();
    assert.ok(info);
    // tfjs-node-gpu only where a GPU is visible; tfjs-node otherwise.
    assert.equal(info.kind, gpuVisible() ? 'gpu' : 'native');
    assert.equal(info.tfBackend, 'tensorflow');
    assert.equal(tf.getBackend(), 'tensorflow');
    assert.equal(info.warning, undefined);
  });

  it('returns the first choice when called again', async () => {
    assert.equal(await selectBackend({ force: 'cpu', log: () => undefined }), activeBackend());
  });

  it('refuses an unknown forced backend with the list of choices', async () => {
    const { execFileSync } = await import('child_process');
    const script = `require('${require.resolve('../../src/backend')}').selectBackend().catch(e => { console.log(e.message); })`;
    const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, [BACKEND_ENV_VAR]: 'tpu' } }).toString();
    assert.match(out, /CAPTCHA_LAB_BACKEND='tpu' is not a backend; use one of gpu, webgpu, native, wasm, cpu or auto/);
  });

  it('falls back to cpu with a loud speed warning when forced', async () => {
    const { execFileSync } = await import('child_process');
    const script = `require('${require.resolve('../../src/backend')}').selectBackend().then(i => console.log(i.tfBackend));`;
    const res = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, [BACKEND_ENV_VAR]: 'cpu' }, stdio: 'pipe' });
    assert.equal(res.toString().trim(), 'cpu');
  });
});

describe('a tiny model trains on every installed backend', function () {
  this.timeout(120000);
  before(async () => {
    await useNativeBackend();
    await initWasmBackend();
    await tf.setBackend('tensorflow');
  });
  after(() => assert.equal(tf.getBackend(), 'tensorflow', 'the tests leave the native backend active'));

  for (const backend of ['tensorflow', 'wasm', 'cpu']) {
    it(`lowers the loss on ${backend}`, async () => {
      const losses = await lossesOn(backend, 8);
      assert.ok(losses[7] < losses[0] * 0.9, `${backend}: ${losses.map((l) => l.toFixed(3)).join(' ')}`);
    });
  }

  it('computes the same first loss on every backend', async () => {
    const first: number[] = [];
    // one after another: each call switches the global backend and restores it
    for (const b of ['tensorflow', 'wasm', 'cpu']) first.push((await lossesOn(b, 1))[0]);
    for (const l of first) assert.ok(Math.abs(l - first[0]) / first[0] < 1e-4, first.join(' '));
  });
});
