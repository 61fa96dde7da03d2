import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { activeBackend, applyTfjsFlags, BACKEND_ENV_VAR, gpuVisible, initWasmBackend, parseTfjsFlags, selectBackend } from '../../src/backend';
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
    const first = activeBackend();
    assert.ok(first);
    assert.strictEqual(await selectBackend({ force: 'cpu', log: () => undefined }), first);
    assert.equal(tf.getBackend(), first.tfBackend, 'the forced cpu backend was not switched to');
  });

  it('refuses an unknown forced backend with the list of choices', async () => {
    const { execFileSync } = await import('child_process');
    const script = `require('${require.resolve('../../src/backend')}').selectBackend().catch(e => { console.log(e.message); })`;
    const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, [BACKEND_ENV_VAR]: 'tpu' } }).toString();
    assert.match(out, /CAPTCHA_LAB_BACKEND='tpu' is not a backend; use one of gpu, webgpu, native, wasm, cpu or auto/);
  });

  it('falls back to cpu with a loud speed warning when forced', async () => {
    const script = `require('${require.resolve('../../src/backend')}').selectBackend().then(i => console.log(i.tfBackend));`;
    const res = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, [BACKEND_ENV_VAR]: 'cpu' }, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim(), 'cpu');
    assert.match(res.stderr, /\[backend\] WARNING: pure-JS cpu backend: training runs about 100x slower than native TensorFlow; run `npm run setup`/);
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

describe('TensorFlow.js flags from CAPTCHA_LAB_TFJS_FLAGS', () => {
  it('parses NAME=value lists into numbers, booleans and strings', () => {
    assert.deepEqual(parseTfjsFlags('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE=64, WEBGPU_CPU_FORWARD=false,WEBGPU_PRINT_SHADER=all'), {
      WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 64, WEBGPU_CPU_FORWARD: false, WEBGPU_PRINT_SHADER: 'all',
    });
    assert.deepEqual(parseTfjsFlags(''), {});
    assert.throws(() => parseTfjsFlags('WEBGPU_CPU_FORWARD'), /CAPTCHA_LAB_TFJS_FLAGS: 'WEBGPU_CPU_FORWARD' is not NAME=value \(e\.g\. /);
    assert.throws(() => parseTfjsFlags('debug=true'), /'debug=true' is not NAME=value/);
  });

  it('sets known flags and refuses unknown ones, listing the known', () => {
    const before = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
    try {
      assert.deepEqual(applyTfjsFlags(`CHECK_COMPUTATION_FOR_ERRORS=${!before}`), { CHECK_COMPUTATION_FOR_ERRORS: !before });
      assert.equal(tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS'), !before);
    } finally {
      tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', before);
    }
    assert.throws(() => applyTfjsFlags('WEBGPU_NOT_A_FLAG=1'), /'WEBGPU_NOT_A_FLAG' is not a flag of this TensorFlow.js and backend .*unset CAPTCHA_LAB_TFJS_FLAGS; known: .*CHECK_COMPUTATION_FOR_ERRORS/);
    // nothing is set when one entry is refused, and a value must have the flag's type
    assert.throws(() => applyTfjsFlags(`CHECK_COMPUTATION_FOR_ERRORS=${!before},NOPE=1`), /'NOPE' is not a flag/);
    assert.equal(tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS'), before);
    assert.throws(() => applyTfjsFlags('CHECK_COMPUTATION_FOR_ERRORS=3'), /CHECK_COMPUTATION_FOR_ERRORS takes a boolean \(now (true|false)\), not '3'/);
  });

  it('are applied and reported when the backend is chosen', () => {
    const script = `require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'backend', 'index.js'))}).selectBackend({ force: 'cpu' })
      .then(() => console.log(require('@tensorflow/tfjs').env().getBool('CHECK_COMPUTATION_FOR_ERRORS')), (e) => { console.log(e.message); process.exit(3); })`;
    const run = (flags: string) => spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, CAPTCHA_LAB_TFJS_FLAGS: flags } });
    // true: the flag's default (DEBUG) is false, so reading true shows it was set
    const ok = run('CHECK_COMPUTATION_FOR_ERRORS=true');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /\[backend\] tfjs flags CHECK_COMPUTATION_FOR_ERRORS=true/);
    assert.equal(ok.stdout.trim().split('\n').pop(), 'true');
    const bad = run('NOPE=1');
    assert.equal(bad.status, 3);
    assert.match(bad.stdout, /'NOPE' is not a flag/);
    // a malformed list fails before any backend loads
    const malformed = run('NOPE');
    assert.equal(malformed.status, 3);
    assert.match(malformed.stdout, /'NOPE' is not NAME=value/);
    assert.doesNotMatch(malformed.stderr, /\[backend\]/);
  });
});
