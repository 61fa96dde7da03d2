import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  availableFusedKernels,
  batchNormTraining,
  conv2dBiasAct,
  createFusedAdam,
  disableFusedKernels,
  enableFusedKernels,
  FUSED_KERNEL_NAMES,
  installGradientOverrides,
  nativeBackend,
  oneDnnAvailable,
  oneDnnPoolingAvailable,
  sparseSoftmaxCrossEntropy,
  withFusedKernels,
} from '../../src/backend/fused';
import { useNativeBackend } from '../helpers';

/** max |a - b| / max |a|: the relative error the fast path is held to. */
function relError(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => {
    assert.deepEqual(b.shape, a.shape);
    const scale = tf.max(tf.abs(a)).dataSync()[0];
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / (scale || 1);
  });
}

function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string, tol = 1e-4): void {
  const err = relError(expected, actual);
  assert.ok(err < tol, `${what}: relative error ${err.toExponential(2)} >= ${tol}`);
}

/** Names of the native ops that `f` runs through the tfjs-node backend, in order. */
function nativeOps<T>(f: () => T): { result: T; ops: string[] } {
  const backend = tf.backend() as unknown as Record<'executeSingleOutput' | 'executeMultipleOutputs', (name: string, ...rest: unknown[]) => unknown>;
  const ops: string[] = [];
  const originals = { single: backend.executeSingleOutput, multiple: backend.executeMultipleOutputs };
  backend.executeSingleOutput = function (name, ...rest) {
    ops.push(name);
    return originals.single.call(this, name, ...rest);
  };
  backend.executeMultipleOutputs = function (name, ...rest) {
    ops.push(name);
    return originals.multiple.call(this, name, ...rest);
  };
  try {
    return { result: f(), ops };
  } finally {
    backend.executeSingleOutput = originals.single;
    backend.executeMultipleOutputs = originals.multiple;
  }
}

const seeded = (shape: number[], seed: number, lo = -1, hi = 1) => tf.randomUniform(shape, lo, hi, 'float32', seed);

describe('fused kernels', () => {
  before(async () => {
    await useNativeBackend();
    installGradientOverrides();
  });
  after(() => disableFusedKernels());

  it('are all available on the native CPU backend (oneDNN max-pooling on x86 builds only)', function () {
    if (nativeBackend()?.binding.isUsingGpuDevice()) this.skip();
    if (process.arch === 'x64') {
      assert.ok(oneDnnPoolingAvailable(), 'x86 TensorFlow builds ship oneDNN');
      assert.deepEqual(availableFusedKernels(), [...FUSED_KERNEL_NAMES]);
    } else {
      assert.deepEqual(availableFusedKernels(), FUSED_KERNEL_NAMES.filter((k) => k !== 'maxPoolGrad' || oneDnnPoolingAvailable()));
    }
  });

  describe('gradient overrides', () => {
    const nativeGrad = { reluGrad: 'ReluGrad', maxPoolGrad: '_MklNativeMaxPoolGrad' };
    const cases: Array<{ name: 'reluGrad' | 'maxPoolGrad'; f: (x: tf.Tensor4D) => tf.Tensor; shape: number[] }> = [
      { name: 'reluGrad', f: (x) => tf.relu(x), shape: [2, 5, 7, 3] },
      { name: 'maxPoolGrad', f: (x) => tf.maxPool(x, 2, 2, 'valid'), shape: [2, 9, 11, 3] },
      { name: 'maxPoolGrad', f: (x) => tf.maxPool(x, 2, 2, 'same'), shape: [2, 9, 11, 3] },
      { name: 'maxPoolGrad', f: (x) => tf.maxPool(x, 3, 2, 'valid'), shape: [1, 10, 12, 4] },
      { name: 'maxPoolGrad', f: (x) => tf.maxPool(x, [2, 3], [1, 2], 'same'), shape: [1, 6, 9, 2] },
    ];
    cases.forEach(({ name, f, shape }, i) => {
      it(`${name} gives tfjs's gradient (case ${i + 1}, input ${shape.join('x')})`, function () {
        if (name === 'maxPoolGrad' && !oneDnnPoolingAvailable()) this.skip();
        const x = seeded(shape, 10 + i) as tf.Tensor4D;
        const dy = tf.tidy(() => seeded(f(x).shape, 20 + i));
        const grad = (kernels: Array<typeof name>) => nativeOps(() => withFusedKernels(kernels, () => tf.grad((v: tf.Tensor) => f(v as tf.Tensor4D))(x, dy)));
        const { result: plain, ops: plainOps } = grad([]);
        const { result: fused, ops: fusedOps } = grad([name]);
        assert.ok(fusedOps.includes(nativeGrad[name]) && !plainOps.includes(nativeGrad[name]), fusedOps.join(' '));
        assertClose(fused, plain, name);
        tf.dispose([x, dy, plain, fused]);
      });
    });

    it('hand back to tfjs when switched off or on another backend', async () => {
      const x = seeded([1, 4, 4, 2], 3);
      const onNative = withFusedKernels(['reluGrad', 'maxPoolGrad'], () => tf.grad((v: tf.Tensor) => tf.maxPool(tf.relu(v) as tf.Tensor4D, 2, 2, 'valid'))(x));
      const values = await onNative.data();
      await tf.setBackend('cpu');
      try {
        const xc = tf.tensor(await x.data(), x.shape);
        const onCpu = withFusedKernels(['reluGrad', 'maxPoolGrad'], () => tf.grad((v: tf.Tensor) => tf.maxPool(tf.relu(v) as tf.Tensor4D, 2, 2, 'valid'))(xc));
        assert.deepEqual(Array.from(await onCpu.data()), Array.from(values));
        tf.dispose([xc, onCpu]);
      } finally {
        await tf.setBackend('tensorflow');
      }
      tf.dispose([x, onNative]);
    });
  });

  describe('conv2dBiasAct', () => {
    const cases = [
      { padding: 'same', strides: [1, 1], activation: 'relu', x: [2, 7, 9, 3], f: [3, 3, 3, 4] },
      { padding: 'valid', strides: [1, 1], activation: 'relu', x: [2, 8, 10, 2], f: [3, 3, 2, 5] },
      { padding: 'valid', strides: [2, 2], activation: 'linear', x: [1, 9, 9, 3], f: [3, 3, 3, 2] },
      { padding: 'same', strides: [2, 1], activation: 'relu', x: [3, 6, 5, 1], f: [2, 3, 1, 4] },
    ] as const;
    for (const c of cases) {
      it(`equals conv2d + bias + ${c.activation} with its gradients (${c.padding}, strides ${c.strides.join('x')})`, () => {
        const x = seeded([...c.x], 1) as tf.Tensor4D;
        const filter = seeded([...c.f], 2) as tf.Tensor4D;
        const bias = seeded([c.f[3]], 3, -0.5, 0.5) as tf.Tensor1D;
        const opts = { strides: [c.strides[0], c.strides[1]] as [number, number], padding: c.padding, activation: c.activation };
        const plainF = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
          const z = tf.add(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, opts.strides, c.padding), b);
          return c.activation === 'relu' ? tf.relu(z) : z;
        };
        const fusedF = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => conv2dBiasAct(a as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, opts);
        const yPlain = plainF(x, filter, bias);
        const yFused = fusedF(x, filter, bias);
        assertClose(yFused, yPlain, 'output');
        const dy = seeded(yPlain.shape, 4);
        const gPlain = tf.grads(plainF)([x, filter, bias], dy);
        const { result: gFused, ops } = nativeOps(() => tf.grads(fusedF)([x, filter, bias], dy));
        // oneDNN adds the bias inside the convolution (x86 builds); elsewhere Conv2D + BiasAdd.
        const forward = oneDnnAvailable('_MklNativeConv2DWithBias') ? ['_MklNativeConv2DWithBias'] : ['Conv2D', 'BiasAdd'];
        const expected = [...forward, 'Relu', 'ReluGrad', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BiasAddGrad'];
        assert.deepEqual(ops, c.activation === 'relu' ? expected : expected.filter((o) => !o.startsWith('Relu')));
        ['x', 'filter', 'bias'].forEach((n, i) => assertClose(gFused[i], gPlain[i], `d${n}`));
        tf.dispose([yPlain, yFused, ...gPlain, ...gFused]);
        // Nothing of the fused forward or backward pass outlives its results.
        const before = tf.memory().numTensors;
        tf.dispose(tf.grads(fusedF)([x, filter, bias], dy));
        assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
        tf.dispose([x, filter, bias, dy]);
      });
    }
  });

  describe('batchNormTraining', () => {
    it('normalises with the batch statistics like moments + batchNorm, gradients through them included', () => {
      const x = seeded([4, 5, 6, 3], 5, -2, 3) as tf.Tensor4D;
      const scale = seeded([3], 6, 0.5, 1.5) as tf.Tensor1D;
      const offset = seeded([3], 7) as tf.Tensor1D;
      const eps = 1e-3;
      const plainF = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.batchNorm(a, mean, variance, o, s, eps);
      };
      const fusedF = (a: tf.Tensor, s: tf.Tensor, o: tf.Tensor) => batchNormTraining(a as tf.Tensor4D, s as tf.Tensor1D, o as tf.Tensor1D, eps).y;
      const fused = batchNormTraining(x, scale, offset, eps);
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      assertClose(fused.y, plainF(x, scale, offset), 'y');
      assertClose(fused.mean, mean, 'mean');
      assertClose(fused.variance, variance, 'biased variance');
      const dy = seeded(x.shape, 8);
      const gPlain = tf.grads(plainF)([x, scale, offset], dy);
      const { result: gFused, ops } = nativeOps(() => tf.grads(fusedF)([x, scale, offset], dy));
      assert.deepEqual(ops, ['FusedBatchNormV3', 'FusedBatchNormGradV3']);
      ['x', 'scale', 'offset'].forEach((n, i) => assertClose(gFused[i], gPlain[i], `d${n}`));
      tf.dispose([fused.y, fused.mean, fused.variance, mean, variance, ...gPlain, ...gFused]);
      const before = tf.memory().numTensors;
      tf.dispose(tf.grads(fusedF)([x, scale, offset], dy));
      assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
      tf.dispose([x, scale, offset, dy]);
    });
  });

  describe('sparseSoftmaxCrossEntropy', () => {
    it('equals -log softmax at the label, with the gradient softmax - onehot', () => {
      const logits = seeded([6, 5], 9, -3, 3) as tf.Tensor2D;
      const labels = tf.tensor1d([0, 4, 2, 2, 1, 3], 'int32');
      const plainF = (l: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.oneHot(labels, 5), tf.logSoftmax(l)), -1));
      const fusedF = (l: tf.Tensor) => sparseSoftmaxCrossEntropy(l as tf.Tensor2D, labels);
      assertClose(fusedF(logits), plainF(logits), 'loss');
      const dy = seeded([6], 10);
      assertClose(tf.grad(fusedF)(logits, dy), tf.grad(plainF)(logits, dy), 'dlogits');
      assert.throws(() => sparseSoftmaxCrossEntropy(logits, tf.tensor1d([0, 1, 2, 3, 4, 5], 'float32') as tf.Tensor1D), /labels must be int32, got float32/);
    });
  });

  describe('fused Adam', () => {
    /** Two identical sets of variables, one per optimizer. */
    function twins(shapes: number[][]) {
      const make = () => shapes.map((s, i) => seeded(s, 30 + i).variable(true) as tf.Variable);
      return [make(), make()];
    }
    const gradsFor = (vars: tf.Variable[], step: number) =>
      Object.fromEntries(vars.map((v, i) => [v.name, seeded(v.shape, 100 * step + i, -0.1, 0.1)]));

    it("leaves weights, moments and iterations where tfjs's Adam leaves them", async () => {
      const [a, b] = twins([[3, 4], [5], [2, 2, 3, 2]]);
      const plain = tf.train.adam(0.01, 0.8, 0.95, 1e-3);
      const fastOpt = tf.train.adam(0.01, 0.8, 0.95, 1e-3);
      const fused = createFusedAdam(fastOpt);
      assert.ok(fused);
      for (let step = 0; step < 5; step++) {
        const ga = gradsFor(a, step);
        const gb = Object.fromEntries(b.map((v, i) => [v.name, ga[a[i].name]]));
        plain.applyGradients(ga as never);
        const update: (g: tf.NamedTensorMap) => void = fused;
        const adamOps: string[] = nativeOps<void>(() => update(gb)).ops;
        assert.equal(adamOps.filter((o) => o === 'ResourceApplyAdam').length, 3);
        tf.dispose(Object.values(ga));
      }
      a.forEach((v, i) => assertClose(b[i], v, `weight ${i}`, 1e-5));
      const [wa, wb] = [await plain.getWeights(), await fastOpt.getWeights()];
      assert.deepEqual(wb.map((w) => w.name.replace(/^.*\//, '')), wa.map((w) => w.name.replace(/^.*\//, '')));
      assert.equal(await wb[0].tensor.data().then((d) => d[0]), 5, 'iterations');
      wa.slice(1).forEach((w, i) => assertClose(wb[i + 1].tensor, w.tensor, `slot ${w.name}`, 1e-5));
      fused.dispose();
      tf.dispose([...a, ...b]);
      plain.dispose();
      fastOpt.dispose();
    });

    it('picks up weights and moments changed from outside (restored checkpoint)', async () => {
      const [a, b] = twins([[4, 3]]);
      const plain = tf.train.adam(0.05);
      const fastOpt = tf.train.adam(0.05);
      const fused = createFusedAdam(fastOpt);
      assert.ok(fused);
      const step = (i: number) => {
        const g = gradsFor(a, i);
        plain.applyGradients(g as never);
        fused({ [b[0].name]: g[a[0].name] });
        tf.dispose(Object.values(g));
      };
      step(0);
      // Restore both from the same "checkpoint": new weight values and optimizer state.
      const restored = seeded([4, 3], 77);
      a[0].assign(restored);
      b[0].assign(restored);
      const saved = await plain.getWeights();
      await fastOpt.setWeights(saved.map((w) => ({ name: w.name, tensor: w.tensor.clone() })));
      step(1);
      assertClose(b[0], a[0], 'weight after restore', 1e-5);
      fused.dispose();
      tf.dispose([...a, ...b, restored]);
    });

    it('is not offered for other optimizers', () => {
      assert.equal(createFusedAdam(tf.train.sgd(0.1)), undefined);
    });
  });

  describe('enableFusedKernels', () => {
    it('switches on what the machine can run and disableFusedKernels restores tfjs', () => {
      disableFusedKernels();
      const tfjsReluGrad = tf.getGradient('Relu');
      assert.deepEqual(enableFusedKernels(['reluGrad', 'batchNorm']), ['reluGrad', 'batchNorm']);
      assert.notEqual(tf.getGradient('Relu'), tfjsReluGrad, 'the override is installed');
      disableFusedKernels();
      assert.equal(tf.getGradient('Relu'), tfjsReluGrad, "tfjs's own gradient is back");
      assert.deepEqual(enableFusedKernels([]), []);
      assert.throws(() => enableFusedKernels(['warp' as never]), /unknown fused kernel 'warp'; known: reluGrad, maxPoolGrad/);
      installGradientOverrides();
    });

    it('switches nothing on when the backend is not tfjs-node', async () => {
      await tf.setBackend('cpu');
      try {
        assert.deepEqual(enableFusedKernels(), []);
        assert.deepEqual(availableFusedKernels(), []);
      } finally {
        disableFusedKernels();
        await tf.setBackend('tensorflow');
        installGradientOverrides();
      }
    });
  });
});
