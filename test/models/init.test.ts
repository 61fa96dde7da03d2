import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { createModel, mathematicaLimit, type InitScheme } from '../../src/models';
import { useNativeBackend } from '../helpers';

/** Kernel and bias of every Conv2D and Dense layer, in layer order. */
function kernels(model: tf.LayersModel): Array<{ name: string; shape: number[]; w: Float32Array; bias: Float32Array }> {
  return model.layers
    .filter((l) => ['Conv2D', 'Dense'].includes(l.getClassName()))
    .map((l) => {
      const [k, b] = l.getWeights();
      return { name: l.name, shape: k.shape, w: k.dataSync() as Float32Array, bias: b.dataSync() as Float32Array };
    });
}

const maxAbs = (w: Float32Array) => w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const std = (w: Float32Array) => Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);

function withModel<T>(init: InitScheme | undefined, f: (model: tf.LayersModel) => T, name = 'seed'): T {
  const model = createModel(name, { seed: 7, init });
  try {
    return f(model);
  } finally {
    model.dispose();
  }
}

describe('weight initialisation schemes', () => {
  before(useNativeBackend);

  it("computes Mathematica 11.0's limits: sqrt(12/(9 Cin + Cout)) before a ReLU, Glorot's for the heads", () => {
    assert.ok(Math.abs(mathematicaLimit([3, 3, 3, 32], true) - 0.451) < 5e-4);
    assert.ok(Math.abs(mathematicaLimit([3, 3, 256, 256], true) - 0.0685) < 5e-4);
    assert.equal(mathematicaLimit([1536, 36], false), Math.sqrt(6 / 1572));
    assert.throws(() => mathematicaLimit([5], false), /kernel shape \[5\] must have 2 or more positive dimensions/);
  });

  it('mathematica: every layer uniform on (-a, a) with its own a, biases 0', () => {
    withModel('mathematica', (model) => {
      const layers = kernels(model);
      assert.equal(layers.length, 12, '8 convolutions and 4 heads');
      // the heads read the real flatten size of the 80x170 input: 1 x 6 x 256
      assert.deepEqual(layers[8].shape, [1536, 36]);
      for (const { name, shape, w, bias } of layers) {
        const conv = shape.length === 4;
        const a = conv ? Math.sqrt(12 / (9 * shape[2] + shape[3])) : Math.sqrt(6 / (shape[0] + shape[1]));
        const m = maxAbs(w);
        assert.ok(m <= a && m > 0.98 * a, `${name}: max |w| ${m} vs a ${a}`);
        // uniform, not normal: std a/sqrt(3), and half the weights within a/2 (a normal of that std has 61%)
        assert.ok(Math.abs(std(w) / (a / Math.sqrt(3)) - 1) < 0.08, `${name}: std ${std(w)} vs ${a / Math.sqrt(3)}`);
        const inner = w.filter((v) => Math.abs(v) < a / 2).length / w.length;
        assert.ok(Math.abs(inner - 0.5) < 0.06, `${name}: ${inner} of the weights within a/2`);
        assert.ok(bias.every((b) => b === 0), `${name}: biases 0`);
      }
    });
  });

  it("he is the seed network's default; glorot is uniform with Glorot's limit everywhere", () => {
    const flat = (init: InitScheme | undefined) => withModel(init, (m) => kernels(m).map((k) => Array.from(k.w.slice(0, 50))));
    assert.deepEqual(flat('he'), flat(undefined));
    withModel('glorot', (model) => {
      for (const { name, shape, w } of kernels(model)) {
        const receptive = shape.length === 4 ? shape[0] * shape[1] : 1;
        const a = Math.sqrt(6 / (receptive * (shape[shape.length - 2] + shape[shape.length - 1])));
        assert.ok(maxAbs(w) <= a && maxAbs(w) > 0.98 * a, `${name}: max |w| ${maxAbs(w)} vs ${a}`);
      }
    });
    withModel('he', (model) => {
      const [first] = kernels(model);
      // He normal: std sqrt(2/27) before truncation at two standard deviations, 0.88 of it after;
      // Glorot's uniform limit here is 0.14 and Mathematica's uniform std 0.26, so neither passes
      const sigma = Math.sqrt(2 / 27);
      assert.ok(maxAbs(first.w) <= 2 * sigma + 1e-6 && maxAbs(first.w) > 1.5 * sigma, `max |w| ${maxAbs(first.w)}`);
      assert.ok(Math.abs(std(first.w) / (0.88 * sigma) - 1) < 0.05, `std ${std(first.w)} vs ${0.88 * sigma}`);
    });
  });

  it('builds the same weights for the same seed and scheme, and seed-bn takes the scheme too', () => {
    const first = (init: InitScheme, name = 'seed') => withModel(init, (m) => Array.from(kernels(m)[0].w.slice(0, 20)), name);
    assert.deepEqual(first('mathematica'), first('mathematica'));
    assert.notDeepEqual(first('mathematica'), first('glorot'));
    assert.deepEqual(first('mathematica', 'seed-bn'), first('mathematica'));
  });

  it('refuses a scheme the architecture does not take, and an unknown one, with the fix', () => {
    assert.throws(() => createModel('crnn', { init: 'mathematica' }), /model 'crnn' has no init setting \(init mathematica applies to seed, seed-bn\); leave init unset/);
  });

  it('names an input too small for the architecture instead of a negative tensor shape', () => {
    assert.throws(() => createModel('seed-bn', { height: 40, width: 85 }), /input 85x40 is too small for model 'seed-bn'.*default 170x80/);
    assert.throws(() => createModel('seed', { init: 'lecun' as InitScheme }), /unknown init 'lecun'; known: mathematica, he, glorot/);
  });
});
