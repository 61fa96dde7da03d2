import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { conv2DBackpropFilterPerImage, type KernelArgs } from '../../src/backend/composite-kernels';
import {
  initWasmBackend,
  registerWasmTrainingKernels,
  WASM_BACKEND_NAME,
} from '../../src/backend/wasm-kernels';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;

/** Values in [-1, 1) from a fixed-seed LCG, so that both backends see identical inputs. */
function seededValues(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 2 - 1;
  });
}

function seededTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(seededValues(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** Runs `compute` on `backend` and copies its outputs out of TensorFlow.js. */
async function valuesOn(
  backend: string,
  compute: () => tf.Tensor | tf.Tensor[],
): Promise<{ values: Float32Array[]; shapes: number[][]; dtypes: string[] }> {
  await tf.setBackend(backend);
  const outs = tf.tidy(compute);
  const list = Array.isArray(outs) ? outs : [outs];
  const result = {
    values: list.map((t) => Float32Array.from(t.dataSync())),
    shapes: list.map((t) => t.shape),
    dtypes: list.map((t) => t.dtype as string),
  };
  tf.dispose(list);
  return result;
}

/** max |a - b| / max |b|: the error relative to the reference's scale. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.strictEqual(actual.length, expected.length, 'sizes differ');
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.ok(scale > 0, 'the reference is all zeros, which would hide errors');
  return maxDiff / scale;
}

async function assertWasmMatchesCpu(compute: () => tf.Tensor | tf.Tensor[], label: string) {
  const wasm = await valuesOn(WASM_BACKEND_NAME, compute);
  const cpu = await valuesOn('cpu', compute);
  assert.deepStrictEqual(wasm.shapes, cpu.shapes, `${label}: shapes differ`);
  wasm.values.forEach((values, i) => {
    const err = relativeError(values, cpu.values[i]);
    assert.ok(err < 1e-4, `${label}, output ${i}: relative error ${err} against cpu`);
  });
}

/** The shape of a forward conv2d's output, worked out on cpu (wasm lacks NCHW convs). */
async function forwardShape(forward: () => tf.Tensor): Promise<number[]> {
  return (await valuesOn('cpu', forward)).shapes[0];
}

interface ConvCase {
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
}

const CONV_CASES: ConvCase[] = [
  { x: [1, 5, 5, 1], filter: [3, 3, 1, 2], strides: 1, pad: 'same' },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { x: [3, 6, 8, 2], filter: [2, 3, 2, 3], strides: 1, pad: 'valid' },
  { x: [2, 8, 7, 2], filter: [5, 5, 2, 2], strides: [3, 2], pad: 'same' },
  {
    x: [2, 7, 9, 3],
    filter: [3, 3, 3, 2],
    strides: 2,
    pad: [
      [0, 0],
      [4, 1],
      [0, 3],
      [0, 0],
    ],
  },
  { x: [2, 3, 7, 9], filter: [3, 3, 3, 4], strides: 2, pad: 'same', dataFormat: 'NCHW' },
];

function describeCase(c: ConvCase): string {
  return `x [${c.x}], filter [${c.filter}], strides ${c.strides}, pad ${JSON.stringify(c.pad)}, ${
    c.dataFormat ?? 'NHWC'
  }`;
}

describe('wasm training kernels', function () {
  let previousBackend: string | null = null;

  before(async function () {
    previousBackend = tf.engine().backendName ?? null;
    await initWasmBackend();
  });

  after(async function () {
    if (previousBackend != null) await tf.setBackend(previousBackend);
  });

  describe('registerWasmTrainingKernels', function () {
    it('provides the kernels a conv net needs to train on wasm', function () {
      const names = registerWasmTrainingKernels();
      for (const name of [
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
        'DepthwiseConv2dNativeBackpropFilter',
        'DepthwiseConv2dNativeBackpropInput',
        'UnsortedSegmentSum',
      ]) {
        assert.ok(names.includes(name), `${name} missing from [${names}]`);
        assert.ok(tf.getKernel(name, WASM_BACKEND_NAME) != null, `${name} not registered`);
      }
    });

    it('registers nothing new and warns nothing when called again', function () {
      const first = registerWasmTrainingKernels();
      const funcs = first.map((name) => tf.getKernel(name, WASM_BACKEND_NAME)?.kernelFunc);
      const warnings: unknown[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => void warnings.push(args);
      try {
        assert.deepStrictEqual(registerWasmTrainingKernels(), first);
      } finally {
        console.warn = warn;
      }
      assert.deepStrictEqual(warnings, []);
      first.forEach((name, i) =>
        assert.strictEqual(tf.getKernel(name, WASM_BACKEND_NAME)?.kernelFunc, funcs[i], name),
      );
    });
  });

  describe('initWasmBackend', function () {
    it('makes wasm the active backend and can be called twice', async function () {
      await tf.setBackend('cpu');
      await initWasmBackend();
      await initWasmBackend();
      assert.strictEqual(tf.getBackend(), WASM_BACKEND_NAME);
    });

    it('rejects a wasmDir without a trailing slash', async function () {
      await assert.rejects(initWasmBackend({ wasmDir: '/opt/wasm' }), {
        message:
          `initWasmBackend: wasmDir "/opt/wasm" must be a folder path or URL ending in '/' ` +
          `(it is used as a prefix of the .wasm file names); add the trailing slash.`,
      });
    });
  });

  describe('Conv2DBackpropFilter and Conv2DBackpropInput', function () {
    CONV_CASES.forEach((c, index) => {
      it(`match the cpu backend for ${describeCase(c)}`, async function () {
        const dataFormat = c.dataFormat ?? 'NHWC';
        const dyShape = await forwardShape(() =>
          tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad, dataFormat),
        );
        const attrs = { strides: c.strides, pad: c.pad, dataFormat } as unknown as tf.NamedAttrMap;
        await assertWasmMatchesCpu(
          () =>
            tf.engine().runKernel(
              'Conv2DBackpropFilter',
              { x: seededTensor(c.x, 10 + index), dy: seededTensor(dyShape, 20 + index) },
              { ...attrs, filterShape: c.filter },
            ) as tf.Tensor,
          `filter gradient, ${describeCase(c)}`,
        );
        await assertWasmMatchesCpu(
          () =>
            tf.engine().runKernel(
              'Conv2DBackpropInput',
              { dy: seededTensor(dyShape, 20 + index), filter: seededTensor(c.filter, 30 + index) },
              { ...attrs, inputShape: c.x },
            ) as tf.Tensor,
          `input gradient, ${describeCase(c)}`,
        );
      });
    });

    it('give the gradients of tf.conv2d and leave no wasm buffers behind', async function () {
      await tf.setBackend(WASM_BACKEND_NAME);
      const before = tf.backend().numDataIds();
      await assertWasmMatchesCpu(() => {
        const x = seededTensor([2, 9, 8, 3], 1) as tf.Tensor4D;
        const filter = seededTensor([3, 3, 3, 5], 2) as tf.Tensor4D;
        const weights = seededTensor([2, 5, 4, 5], 3);
        const loss = (a: tf.Tensor, f: tf.Tensor) =>
          tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 2, 'same').mul(weights).sum();
        return tf.grads(loss)([x, filter]);
      }, 'tf.grads of conv2d');
      await tf.setBackend(WASM_BACKEND_NAME);
      assert.strictEqual(tf.backend().numDataIds(), before);
    });
  });

  describe('the filter gradient split by image (conv2DBackpropFilterPerImage, for webgpu)', function () {
    const KERNEL = 'CaptchaLabTestFilterGradPerImage';
    // the same with its patches capped at two images' worth: groups of 2 (and 1 for an odd batch), added
    const GROUPED = 'CaptchaLabTestFilterGradPerImageGrouped';
    const twoImages = (args: KernelArgs) => {
      const attrs = args.attrs as unknown as { filterShape: number[]; dataFormat?: string };
      const nchw = attrs.dataFormat === 'NCHW';
      const x = (args.inputs.x as tf.TensorInfo).shape;
      const dy = (args.inputs.dy as tf.TensorInfo).shape;
      const [c, outH, outW] = nchw ? [x[1], dy[2], dy[3]] : [x[3], dy[1], dy[2]];
      const [kh, kw] = attrs.filterShape;
      return 2 * outH * outW * kh * kw * c * 4;
    };
    before(function () {
      for (const backendName of ['cpu', WASM_BACKEND_NAME]) {
        tf.registerKernel({ kernelName: KERNEL, backendName, kernelFunc: (args) => conv2DBackpropFilterPerImage(args as KernelArgs, backendName) });
        tf.registerKernel({ kernelName: GROUPED, backendName, kernelFunc: (args) => conv2DBackpropFilterPerImage(args as KernelArgs, backendName, twoImages(args as KernelArgs)) });
      }
    });
    after(function () {
      for (const backendName of ['cpu', WASM_BACKEND_NAME]) [KERNEL, GROUPED].forEach((k) => tf.unregisterKernel(k, backendName));
    });

    CONV_CASES.forEach((c, index) => {
      it(`matches the cpu backend's kernel on cpu and wasm, whole and in groups of two images, for ${describeCase(c)}`, async function () {
        const dataFormat = c.dataFormat ?? 'NHWC';
        const dyShape = await forwardShape(() =>
          tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad, dataFormat),
        );
        const attrs = { strides: c.strides, pad: c.pad, dataFormat, filterShape: c.filter } as unknown as tf.NamedAttrMap;
        const run = (name: string) => () =>
          tf.engine().runKernel(name, { x: seededTensor(c.x, 10 + index), dy: seededTensor(dyShape, 20 + index) }, attrs) as tf.Tensor;
        const reference = await valuesOn('cpu', run('Conv2DBackpropFilter'));
        for (const backendName of ['cpu', WASM_BACKEND_NAME]) {
          for (const kernel of [KERNEL, GROUPED]) {
            const ours = await valuesOn(backendName, run(kernel));
            assert.deepStrictEqual(ours.shapes, reference.shapes, `${backendName} ${kernel}: shapes differ`);
            const err = relativeError(ours.values[0], reference.values[0]);
            assert.ok(err < 1e-4, `${backendName} ${kernel}: relative error ${err}`);
          }
        }
      });
    });

    it('leaves no buffers behind', async function () {
      for (const backendName of ['cpu', WASM_BACKEND_NAME]) {
        await tf.setBackend(backendName);
        const x = seededTensor([2, 6, 7, 3], 1);
        const dy = seededTensor([2, 6, 7, 4], 2);
        for (const kernel of [KERNEL, GROUPED]) {
          const before = tf.backend().numDataIds();
          const out = tf.engine().runKernel(kernel, { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } as unknown as tf.NamedAttrMap) as tf.Tensor;
          assert.strictEqual(tf.backend().numDataIds(), before + 1, `${backendName} ${kernel}`);
          out.dispose();
        }
        tf.dispose([x, dy]);
      }
    });

    it("refuses, naming the fix, when one image's patches pass the cap (a GPU would compute garbage)", () => {
      const args = { inputs: { x: tf.zeros([1, 6, 7, 3]), dy: tf.zeros([1, 6, 7, 4]) }, backend: tf.backend(), attrs: { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } } as unknown as KernelArgs;
      assert.throws(() => conv2DBackpropFilterPerImage(args, tf.getBackend(), 100), /one image's patches take 4536 bytes, more than the 100 allowed .*CAPTCHA_LAB_WEBGPU_FILTER_GRAD=forward-conv/);
      tf.dispose(Object.values(args.inputs) as tf.Tensor[]);
    });
  });

  describe('DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput', function () {
    const cases = CONV_CASES.filter((c) => c.dataFormat == null).flatMap((c) =>
      [1, 2].map((multiplier) => ({
        ...c,
        filter: [c.filter[0], c.filter[1], c.x[3], multiplier] as Shape4,
      })),
    );
    cases.forEach((c, index) => {
      it(`match the cpu backend for ${describeCase(c)}`, async function () {
        const dyShape = await forwardShape(() =>
          tf.depthwiseConv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad),
        );
        const attrs = { strides: c.strides, pad: c.pad, dilations: 1 } as unknown as tf.NamedAttrMap;
        await assertWasmMatchesCpu(
          () =>
            tf.engine().runKernel(
              'DepthwiseConv2dNativeBackpropFilter',
              { x: seededTensor(c.x, 40 + index), dy: seededTensor(dyShape, 50 + index) },
              { ...attrs, filterShape: c.filter },
            ) as tf.Tensor,
          `depthwise filter gradient, ${describeCase(c)}`,
        );
        await assertWasmMatchesCpu(
          () =>
            tf.engine().runKernel(
              'DepthwiseConv2dNativeBackpropInput',
              { dy: seededTensor(dyShape, 50 + index), filter: seededTensor(c.filter, 60 + index) },
              { ...attrs, inputShape: c.x },
            ) as tf.Tensor,
          `depthwise input gradient, ${describeCase(c)}`,
        );
      });
    });

    it('refuses dilations other than 1', async function () {
      await tf.setBackend(WASM_BACKEND_NAME);
      assert.throws(
        () =>
          tf.engine().runKernel(
            'DepthwiseConv2dNativeBackpropFilter',
            { x: tf.zeros([1, 5, 5, 1]), dy: tf.zeros([1, 5, 5, 1]) },
            { strides: 1, pad: 'same', dilations: 2, filterShape: [3, 3, 1, 1] },
          ),
        {
          message:
            `DepthwiseConv2dNativeBackpropFilter on wasm supports dilations of 1 only, got [2, 2]; ` +
            `use dilations [1, 1] when training, or the 'cpu' backend.`,
        },
      );
    });
  });

  describe('UnsortedSegmentSum', function () {
    it('sums rows per segment like the cpu backend, dropping ids out of range', async function () {
      await assertWasmMatchesCpu(
        () =>
          tf.unsortedSegmentSum(
            seededTensor([6, 2, 3], 7),
            tf.tensor1d([2, 0, 2, -1, 7, 3], 'int32'),
            4,
          ),
        'unsortedSegmentSum',
      );
    });

    it('keeps int32 sums exact and int32', async function () {
      const wasm = await valuesOn(WASM_BACKEND_NAME, () =>
        tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4, 5], 'int32'), tf.tensor1d([2, 0, 2, 1, 1], 'int32'), 4),
      );
      assert.deepStrictEqual(Array.from(wasm.values[0]), [2, 9, 4, 0]);
      assert.deepStrictEqual(wasm.dtypes, ['int32']);
    });

    it('gives the gradient of tf.gather', async function () {
      await assertWasmMatchesCpu(
        () =>
          tf.grad((table: tf.Tensor) => tf.gather(table, tf.tensor1d([3, 0, 3, 1], 'int32')).square().sum())(
            seededTensor([5, 3], 8),
          ),
        'gradient of gather',
      );
    });
  });

  describe('a tiny conv net on wasm', function () {
    const inputShape = [7, 9, 1];
    const numClasses = 3;

    /** conv2d 3x3 -> relu -> maxPool -> flatten -> dense softmax, seeded. */
    function createTinyNet(): tf.Sequential {
      const model = tf.sequential();
      model.add(
        tf.layers.conv2d({
          inputShape,
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          biasInitializer: tf.initializers.constant({ value: 0.01 }),
        }),
      );
      model.add(tf.layers.activation({ activation: 'relu' }));
      model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
      model.add(tf.layers.flatten());
      model.add(
        tf.layers.dense({
          units: numClasses,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        }),
      );
      return model;
    }

    const batch = () => ({
      xs: seededTensor([4, ...inputShape], 99),
      ys: tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), numClasses),
    });

    it('has the same gradients as on the cpu backend', async function () {
      await tf.setBackend(WASM_BACKEND_NAME);
      const model = createTinyNet();
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      try {
        await assertWasmMatchesCpu(() => {
          const { xs, ys } = batch();
          const { grads } = tf.variableGrads(
            () => tf.metrics.categoricalCrossentropy(ys, model.apply(xs) as tf.Tensor).mean() as tf.Scalar,
            variables,
          );
          return variables.map((v) => grads[v.name]);
        }, 'tiny net gradients');
      } finally {
        model.dispose();
      }
    });

    it('lowers its loss over a few Adam steps', async function () {
      await tf.setBackend(WASM_BACKEND_NAME);
      const model = createTinyNet();
      model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
      const { xs, ys } = batch();
      const losses: number[] = [];
      try {
        for (let step = 0; step < 6; step++) losses.push((await model.trainOnBatch(xs, ys)) as number);
      } finally {
        tf.dispose([xs, ys]);
        model.dispose();
      }
      assert.strictEqual(tf.getBackend(), WASM_BACKEND_NAME);
      assert.ok(losses.every(Number.isFinite), `losses [${losses}]`);
      assert.ok(losses[5] < losses[0] * 0.95, `loss did not go down: [${losses}]`);
    });

    it('trains with batch norm, dropout and a depthwise conv too', async function () {
      await tf.setBackend(WASM_BACKEND_NAME);
      const model = tf.sequential();
      model.add(
        tf.layers.conv2d({
          inputShape,
          filters: 3,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          // Batch norm cancels a bias (its gradient is zero up to rounding, nothing to compare).
          useBias: false,
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      );
      model.add(tf.layers.batchNormalization());
      model.add(tf.layers.activation({ activation: 'relu' }));
      model.add(
        tf.layers.depthwiseConv2d({
          kernelSize: 3,
          depthMultiplier: 2,
          padding: 'same',
          depthwiseInitializer: tf.initializers.glorotUniform({ seed: 4 }),
        }),
      );
      model.add(tf.layers.flatten());
      model.add(tf.layers.dropout({ rate: 0.25, seed: 5 }));
      model.add(
        tf.layers.dense({
          units: numClasses,
          activation: 'softmax',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }),
        }),
      );
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      try {
        // A seeded dropout draws the same mask on both backends, so training-mode gradients
        // can be compared too.
        await assertWasmMatchesCpu(() => {
          const { xs, ys } = batch();
          const { grads } = tf.variableGrads(() => {
            const probs = model.apply(xs, { training: true }) as tf.Tensor;
            return tf.metrics.categoricalCrossentropy(ys, probs).mean() as tf.Scalar;
          }, variables);
          return variables.map((v) => grads[v.name]);
        }, 'batch-norm/depthwise net gradients');
        await tf.setBackend(WASM_BACKEND_NAME);
        model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
        const { xs, ys } = batch();
        const history = await model.fit(xs, ys, { epochs: 6, batchSize: 4, verbose: 0 });
        tf.dispose([xs, ys]);
        const losses = history.history.loss as number[];
        assert.ok(losses[5] < losses[0], `loss did not go down: [${losses}]`);
      } finally {
        model.dispose();
      }
    });
  });
});
