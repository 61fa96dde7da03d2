import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  ctcGreedyDecode, ctcIndicesToText, ctcConstrainedDecode, ctcLoss, encodeCtcLabels, readCtcLabels, textsToCtcLabels, type CtcLossOptions,
} from '../../src/models/ctc';

// The native backend makes the larger cases fast and provides TensorFlow's own CTCLoss as an oracle.
let nativeLoaded = false;
try {
  require('@tensorflow/tfjs-node');
  nativeLoaded = tf.findBackend('tensorflow') != null;
} catch {
  // tests still run on the pure-JS cpu backend
}

/** float64 log-softmax of one step's scores. */
function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

/** Merges repeats, then drops blanks. */
function collapse(path: number[], blank: number): number[] {
  const out: number[] = [];
  path.forEach((c, t) => {
    if (c !== blank && (t === 0 || c !== path[t - 1])) out.push(c);
  });
  return out;
}

/**
 * Brute-force CTC: enumerates every one of the C^T paths, keeps those that collapse to the label,
 * and sums their probabilities in float64. Returns -log p, Infinity when no path fits.
 */
function bruteForceLoss(logits: number[][], label: number[]): number {
  const T = logits.length;
  const C = logits[0].length;
  const lp = logits.map(logSoftmax);
  let p = 0;
  const path = new Array<number>(T).fill(0);
  for (let n = 0; n < C ** T; n++) {
    let k = n;
    for (let t = 0; t < T; t++) {
      path[t] = k % C;
      k = Math.floor(k / C);
    }
    const c = collapse(path, C - 1);
    if (c.length === label.length && c.every((v, i) => v === label[i])) {
      p += Math.exp(path.reduce((s, cls, t) => s + lp[t][cls], 0));
    }
  }
  return -Math.log(p);
}

/** Central-difference gradient of the brute-force loss, float64. */
function bruteForceGrad(logits: number[][], label: number[]): number[][] {
  const h = 1e-5;
  return logits.map((row, t) =>
    row.map((_, c) => {
      const plus = logits.map((r) => [...r]);
      const minus = logits.map((r) => [...r]);
      plus[t][c] += h;
      minus[t][c] -= h;
      return (bruteForceLoss(plus, label) - bruteForceLoss(minus, label)) / (2 * h);
    }),
  );
}

/** Deterministic pseudo-random scores in [-2, 2). */
function randomLogits(shape: [number, number, number], seed: number): number[][][] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 4 - 2;
  };
  return Array.from({ length: shape[0] }, () =>
    Array.from({ length: shape[1] }, () => Array.from({ length: shape[2] }, next)),
  );
}

function lossOf(
  logits: number[][][],
  labels: number[][],
  options: Partial<CtcLossOptions> = {},
  logitLengths?: number[],
): number[] {
  return tf.tidy(() => Array.from(ctcLoss(labels, tf.tensor3d(logits), logitLengths, options).dataSync()));
}

function gradOf(
  logits: number[][][],
  labels: number[][],
  options: Partial<CtcLossOptions> = {},
  logitLengths?: number[],
): number[][][] {
  return tf.tidy(() => {
    const g = tf.grad((x: tf.Tensor) => ctcLoss(labels, x as tf.Tensor3D, logitLengths, options).sum())(tf.tensor3d(logits));
    return g.arraySync() as number[][][];
  });
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: got ${a}, expected ${e}`);
  });
}

const GRADIENTS: CtcLossOptions['gradient'][] = ['alpha-beta', 'autodiff'];

describe('ctcLoss', () => {
  // Other test files may switch backends; these tests run on the native one when it is there.
  before(async () => {
    if (nativeLoaded) await tf.setBackend('tensorflow');
  });

  // Tiny cases where all C^T paths can be enumerated. Blank = last class.
  const cases: { name: string; T: number; C: number; label: number[] }[] = [
    { name: 'T=1, one symbol', T: 1, C: 2, label: [0] },
    { name: 'T=1, empty label (only the blank path)', T: 1, C: 2, label: [] },
    { name: 'T=2, one symbol of two', T: 2, C: 3, label: [1] },
    { name: 'T=2, two different symbols (one path)', T: 2, C: 3, label: [0, 1] },
    { name: 'T=3, two different symbols', T: 3, C: 3, label: [0, 1] },
    { name: 'T=3, a repeated symbol needs a blank between', T: 3, C: 3, label: [1, 1] },
    { name: 'T=4, repeated symbol', T: 4, C: 3, label: [0, 0] },
    { name: 'T=5, three symbols with a repeat', T: 5, C: 3, label: [0, 1, 1] },
    { name: 'T=4, empty label', T: 4, C: 3, label: [] },
  ];

  for (const gradient of GRADIENTS) {
    for (const c of cases) {
      it(`matches brute-force enumeration of all paths (${c.name}, ${gradient})`, () => {
        const logits = randomLogits([1, c.T, c.C], c.T * 31 + c.C + c.label.length);
        const expected = bruteForceLoss(logits[0], c.label);
        assertClose(lossOf(logits, [c.label], { gradient }), [expected], 1e-5, 'loss');
      });
    }
  }

  it('gives -ln(3/4) for label "a" over two uniform steps (worked by hand)', () => {
    // Classes {a, blank}, every step 1/2 each (zero logits). The paths of length 2 that collapse
    // to "a" are "a a", "a -", "- a": 3 paths of probability 1/4, p = 3/4, loss = ln(4/3) = 0.28768.
    const loss = lossOf([[[0, 0], [0, 0]]], [[0]]);
    assertClose(loss, [Math.log(4 / 3)], 1e-6, 'loss');
  });

  it('gives ln 8 for label "aa" over three uniform steps: only "a - a" fits (worked by hand)', () => {
    // "a a a" and "a a -" collapse to "a"; the only 3-step path for "aa" is "a - a", p = 1/8.
    const loss = lossOf([[[0, 0], [0, 0], [0, 0]]], [[0, 0]]);
    assertClose(loss, [Math.log(8)], 1e-6, 'loss');
  });

  for (const gradient of GRADIENTS) {
    it(`returns Infinity and a zero gradient when the label cannot fit (${gradient})`, () => {
      // "aa" needs 3 steps ("a - a"); "abc" needs 3 steps; both given 2.
      const logits = randomLogits([2, 2, 4], 5);
      const loss = lossOf(logits, [[0, 0], [0, 1, 2]], { gradient });
      assert.deepEqual(loss, [Infinity, Infinity]);
      const g = gradOf(logits, [[0, 0], [0, 1]], { gradient });
      assert.ok(g[0].flat().every((v) => v === 0), `gradient of the impossible example: ${g[0].flat()}`);
      assert.ok(g[1].flat().some((v) => v !== 0), 'the possible example still has a gradient');
    });
  }

  it('returns 0 instead of Infinity for impossible labels with zeroInfinity', () => {
    const logits = randomLogits([2, 2, 3], 6);
    const loss = lossOf(logits, [[1, 1], [0]], { zeroInfinity: true });
    assert.equal(loss[0], 0);
    assertClose([loss[1]], [bruteForceLoss(logits[1], [0])], 1e-5, 'possible example');
  });

  for (const gradient of GRADIENTS) {
    it(`handles a batch with different label lengths (${gradient})`, () => {
      const labels = [[0, 1, 0], [2], [], [1, 1], [2, 0, 0]];
      const logits = randomLogits([labels.length, 6, 4], 11);
      const expected = labels.map((l, b) => bruteForceLoss(logits[b], l));
      assertClose(lossOf(logits, labels, { gradient }), expected, 1e-5, 'loss');
    });

    it(`uses only the first logitLengths steps of each example (${gradient})`, () => {
      const labels = [[0, 1], [2], [1, 1]];
      const steps = [3, 5, 4];
      const logits = randomLogits([3, 5, 4], 12);
      const expected = labels.map((l, b) => bruteForceLoss(logits[b].slice(0, steps[b]), l));
      assertClose(lossOf(logits, labels, { gradient }, steps), expected, 1e-5, 'loss');
      const g = gradOf(logits, labels, { gradient }, steps);
      g.forEach((rows, b) =>
        rows.forEach((row, t) => {
          if (t >= steps[b]) assert.ok(row.every((v) => v === 0), `gradient at padded step ${t} of example ${b}`);
        }),
      );
    });

    it(`has the gradient of the enumerated probability (float64 finite differences, ${gradient})`, () => {
      const labels = [[0, 1], [1, 1], [0]];
      const steps = [4, 4, 3];
      const logits = randomLogits([3, 4, 3], 13);
      const g = gradOf(logits, labels, { gradient }, steps);
      labels.forEach((l, b) => {
        const expected = bruteForceGrad(logits[b].slice(0, steps[b]), l);
        assertClose(g[b].slice(0, steps[b]).flat(), expected.flat(), 1e-4, `gradient of example ${b}`);
      });
    });
  }

  it('has a gradient that matches float32 finite differences of itself', () => {
    const labels = [[1, 0, 1]];
    const logits = randomLogits([1, 5, 3], 14);
    const g = gradOf(logits, labels).flat(2);
    const h = 1e-2;
    const numeric = logits[0].flatMap((row, t) =>
      row.map((_, c) => {
        const plus = logits.map((x) => x.map((r) => [...r]));
        const minus = logits.map((x) => x.map((r) => [...r]));
        plus[0][t][c] += h;
        minus[0][t][c] -= h;
        return (lossOf(plus, labels)[0] - lossOf(minus, labels)[0]) / (2 * h);
      }),
    );
    assertClose(g, numeric, 2e-3, 'gradient');
  });

  it('gives the same gradient in closed form (alpha-beta) and by automatic differentiation', () => {
    const labels = [[3, 1, 1, 4], [0, 2], [5, 5, 5], []];
    const steps = [12, 9, 12, 7];
    const logits = randomLogits([4, 12, 7], 15);
    const a = gradOf(logits, labels, { gradient: 'alpha-beta' }, steps).flat(2);
    const b = gradOf(logits, labels, { gradient: 'autodiff' }, steps).flat(2);
    assertClose(a, b, 1e-5, 'gradient');
  });

  it('stays finite for very confident logits', () => {
    // Scores 200 apart underflow in probability space; the log-space recursion must not.
    const logits = [[[200, 0, 0], [0, 200, 0], [0, 0, 200], [200, 0, 0]]];
    const loss = lossOf(logits, [[1, 0]]);
    assert.ok(Number.isFinite(loss[0]) && loss[0] > 100, `loss ${loss[0]}`);
    const g = gradOf(logits, [[1, 0]]).flat(2);
    assert.ok(g.every(Number.isFinite), `gradient ${g}`);
  });

  it('leaves no tensors behind after the loss and its gradient', () => {
    const labels = [[0, 1], [1]];
    const logits = tf.tensor3d(randomLogits([2, 4, 3], 16));
    const weights = tf.variable(logits);
    const before = tf.memory().numTensors;
    for (const gradient of GRADIENTS) {
      ctcLoss(labels, logits, undefined, { gradient }).dispose();
      const { value, grads } = tf.variableGrads(() => ctcLoss(labels, weights, undefined, { gradient }).sum());
      value.dispose();
      tf.dispose(grads);
      tf.grad((x: tf.Tensor) => ctcLoss(labels, x as tf.Tensor3D, undefined, { gradient }).sum())(logits).dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([logits, weights]);
  });

  it('rejects bad inputs with errors that say what to fix', () => {
    const logits = tf.zeros([2, 4, 3]) as tf.Tensor3D;
    const labels = [[0, 1], [1]];
    assert.throws(
      () => ctcLoss([[0, 2], [1]], logits),
      /^Error: ctcLoss: labels\[0\]\[1\] = 2 must be a class in \[0, 1\]; 2 is the blank \(the last of the logits' 3 classes\)$/,
    );
    assert.throws(() => ctcLoss([[0, 0.5], [1]], logits), /^Error: ctcLoss: labels\[0\]\[1\] = 0.5 must be a class in \[0, 1\]/);
    assert.throws(
      () => ctcLoss(labels, logits, [4, 5]),
      /^Error: ctcLoss: logitLengths\[1\] = 5 must be an integer in \[1, 4\] \(the logits' time dimension\)$/,
    );
    assert.throws(() => ctcLoss(labels, logits, [4]), /^Error: ctcLoss: logitLengths has 1 entries for a batch of 2; give one per example$/);
    assert.throws(() => ctcLoss([[0]], logits), /^Error: ctcLoss: 1 labels for a batch of 2 logits; give one label per example$/);
    // a tensor where host labels belong: the error names both ways to build them
    const tensorLabels = tf.tensor2d([[0, 1], [1, 0]], undefined, 'int32');
    assert.throws(
      () => ctcLoss(tensorLabels as unknown as number[][], logits),
      /^Error: ctcLoss: labels must be an array of class-index arrays on the host, .*textsToCtcLabels\(texts, alphabet\).*await readCtcLabels\(labels, labelLengths\)$/,
    );
    assert.throws(
      () => ctcLoss(labels, logits, undefined, { gradient: 'numeric' as CtcLossOptions['gradient'] }),
      /gradient 'numeric' is not one of 'alpha-beta', 'autodiff'/,
    );
    tf.dispose([logits, tensorLabels]);
  });

  (nativeLoaded ? it : it.skip)('agrees with TensorFlow\'s native CTCLoss op on a random batch', () => {
    const nb = require('@tensorflow/tfjs-node/dist/nodejs_kernel_backend');
    const be = tf.findBackend('tensorflow') as unknown as {
      binding: { TF_ATTR_BOOL: number };
      executeSingleOutput(name: string, attrs: unknown[], inputs: tf.Tensor[]): tf.Tensor;
      executeMultipleOutputs(name: string, attrs: unknown[], inputs: tf.Tensor[], n: number): tf.Tensor[];
    };
    // (TF rejects empty labels, so none here; the enumeration tests cover them.)
    const labels = [[0, 1, 2, 2], [5], [3, 3, 3, 3, 3], [4, 0], [2], [1, 2, 3, 4, 5, 0, 1]];
    const steps = [20, 15, 20, 9, 6, 18];
    const B = labels.length;
    const T = 20;
    const C = 7;
    const logits = randomLogits([B, T, C], 17);
    tf.tidy(() => {
      const bool = (name: string, value: boolean) => ({ name, type: be.binding.TF_ATTR_BOOL, value });
      // TF wants time-major logits and sparse labels with int64 indices.
      const idx = labels.flatMap((l, b) => l.map((_, i) => [b, i]));
      const idx64 = be.executeSingleOutput(
        'Cast',
        [nb.createTensorsTypeOpAttr('SrcT', 'int32'), nb.createTensorsTypeOpAttr('DstT', 'int64'), bool('Truncate', false)],
        [tf.tensor2d(idx, [idx.length, 2], 'int32')],
      );
      const [nativeLoss, nativeGrad] = be.executeMultipleOutputs(
        'CTCLoss',
        [
          bool('preprocess_collapse_repeated', false),
          bool('ctc_merge_repeated', true),
          bool('ignore_longer_outputs_than_inputs', false),
          nb.createTensorsTypeOpAttr('T', 'float32'),
        ],
        [tf.transpose(tf.tensor3d(logits), [1, 0, 2]), idx64, tf.tensor1d(labels.flat(), 'int32'), tf.tensor1d(steps, 'int32')],
        2,
      );
      const ours = lossOf(logits, labels, {}, steps);
      assertClose(ours, Array.from(nativeLoss.dataSync()), 1e-4, 'loss');
      const expectedGrad = (tf.transpose(nativeGrad, [1, 0, 2]).arraySync() as number[][][]).flat(2);
      assertClose(gradOf(logits, labels, {}, steps).flat(2), expectedGrad, 1e-4, 'gradient');
    });
  });
});

describe('ctcGreedyDecode', () => {
  // Other test files may switch backends; these tests run on the native one when it is there.
  before(async () => {
    if (nativeLoaded) await tf.setBackend('tensorflow');
  });

  /** One-hot scores for a path of class indices. */
  const scores = (paths: number[][], C: number) =>
    tf.tensor3d(paths.map((p) => p.map((c) => Array.from({ length: C }, (_, k) => (k === c ? 5 : 0)))));

  it('merges repeats and drops blanks', async () => {
    // Blank = 3. "0 0 - 0 1 1 -" reads 0 0 1; "- - -" reads nothing; "2 - 2 2 -" reads 2 2.
    const logits = scores(
      [
        [0, 0, 3, 0, 1, 1, 3],
        [3, 3, 3, 3, 3, 3, 3],
        [2, 3, 2, 2, 3, 1, 1],
      ],
      4,
    );
    assert.deepEqual(await ctcGreedyDecode(logits), [[0, 0, 1], [], [2, 2, 1]]);
    logits.dispose();
  });

  it('reads only the first logitLengths steps', async () => {
    const logits = scores([[0, 3, 1, 2], [1, 1, 2, 2]], 4);
    assert.deepEqual(await ctcGreedyDecode(logits, [2, 3]), [[0], [1, 2]]);
    const lengths = tf.tensor1d([4, 1], 'int32');
    assert.deepEqual(await ctcGreedyDecode(logits, lengths), [[0, 1, 2], [1]]);
    tf.dispose([logits, lengths]);
  });

  it('maps indices to text and back through textsToCtcLabels and the padded tensors of encodeCtcLabels', async () => {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const texts = ['AB12', 'Z', '', 'XX9Y0Q'];
    const host = textsToCtcLabels(texts, alphabet);
    assert.deepEqual(host[0], [10, 11, 1, 2]);
    assert.deepEqual(ctcIndicesToText(host, alphabet), texts);
    const { labels, labelLengths } = encodeCtcLabels(texts, alphabet);
    assert.deepEqual(labels.shape, [4, 6]);
    assert.deepEqual(await readCtcLabels(labels, labelLengths), host);
    tf.dispose([labels, labelLengths]);
  });

  it('readCtcLabels ignores the padding and rejects tensors that are not Keras-style labels', async () => {
    // padding with an out-of-range value on purpose: it must never be read
    const labels = tf.tensor2d([[0, 1], [1, -7]], undefined, 'int32');
    const lengths = tf.tensor1d([2, 1], 'int32');
    assert.deepEqual(await readCtcLabels(labels, lengths), [[0, 1], [1]]);
    const tooLong = tf.tensor1d([2, 3], 'int32');
    const oneLength = tf.tensor1d([2], 'int32');
    const floats = labels.toFloat() as tf.Tensor2D;
    await assert.rejects(
      readCtcLabels(labels, tooLong),
      /^Error: readCtcLabels: labelLengths\[1\] = 3 must be in \[0, 2\] \(the labels' second dimension\)$/,
    );
    await assert.rejects(readCtcLabels(floats, lengths), /^Error: readCtcLabels: labels must be int32, got float32; cast them with labels.toInt\(\)$/);
    await assert.rejects(
      readCtcLabels(labels, oneLength),
      /^Error: readCtcLabels: labelLengths must have shape \[2\] \(one entry per example\), got \[1\]$/,
    );
    tf.dispose([labels, lengths, tooLong, oneLength, floats]);
  });

  it('rejects characters outside the alphabet and indices outside it', () => {
    assert.throws(
      () => encodeCtcLabels(['AB', 'a1'], 'AB1'),
      /^Error: label 'a1' has character 'a', which is not in the alphabet 'AB1'$/,
    );
    assert.throws(() => textsToCtcLabels(['AB', 'a1'], 'AB1'), /^Error: label 'a1' has character 'a', which is not in the alphabet 'AB1'$/);
    assert.throws(() => encodeCtcLabels(['ABAB'], 'AB', 3), /^Error: label 'ABAB' has 4 characters, more than maxLength=3; raise maxLength$/);
    assert.throws(() => ctcIndicesToText([[0, 2]], 'AB'), /^Error: class index 2 is outside the alphabet 'AB' \(length 2\)$/);
  });
});

describe('ctcConstrainedDecode', () => {
  before(async () => {
    if (nativeLoaded) await tf.setBackend('tensorflow');
  });

  /** Collapses a frame path (blank = C - 1) to its text. */
  const collapse = (path: number[], blank: number) => path.filter((c, t) => c !== blank && c !== path[t - 1]);

  /** Every path of T frames over C symbols, with its score: the brute-force oracle. */
  function* allPaths(logits: number[][]): Generator<{ path: number[]; score: number }> {
    const T = logits.length;
    const C = logits[0].length;
    for (let code = 0; code < C ** T; code++) {
      const path: number[] = [];
      let rest = code;
      for (let t = 0; t < T; t++) {
        path.push(rest % C);
        rest = Math.floor(rest / C);
      }
      yield { path, score: path.reduce((n, c, t) => n + logits[t][c], 0) };
    }
  }

  it('finds the best path among those that collapse to an allowed length, as brute force does', async () => {
    const cases = randomLogits([12, 6, 4], 11); // 12 examples, 6 frames, 3 symbols + blank
    for (const [min, max] of [[2, 2], [3, 3], [1, 4], [0, 1]]) {
      const logits = tf.tensor3d(cases);
      const decoded = await ctcConstrainedDecode(logits, { min, max });
      logits.dispose();
      cases.forEach((example, b) => {
        let best = { path: [] as number[], score: -Infinity };
        for (const p of allPaths(example)) {
          const n = collapse(p.path, 3).length;
          if (n >= min && n <= max && p.score > best.score) best = p;
        }
        assert.deepEqual(decoded[b], collapse(best.path, 3), `example ${b}, lengths ${min}..${max}`);
      });
    }
  });

  it('finds the best path whose text has no repeated character, as brute force does', async () => {
    const cases = randomLogits([16, 6, 4], 23);
    for (const [min, max] of [[2, 2], [3, 3], [1, 3]]) {
      const logits = tf.tensor3d(cases);
      const decoded = await ctcConstrainedDecode(logits, { min, max, distinct: true });
      logits.dispose();
      cases.forEach((example, b) => {
        let best = { path: [] as number[], score: -Infinity };
        for (const p of allPaths(example)) {
          const text = collapse(p.path, 3);
          if (text.length >= min && text.length <= max && new Set(text).size === text.length && p.score > best.score) best = p;
        }
        assert.deepEqual(decoded[b], collapse(best.path, 3), `example ${b}, lengths ${min}..${max}`);
      });
    }
  });

  it('reads an O and a 0 where the best path reads the same character twice', async () => {
    // Blank = 2, classes '0' and 'O'. Frames: O, blank, O (0 nearly as likely): "OO" is the
    // best path's text; with distinct characters the answer is "O0".
    const logits = tf.tensor3d([[[0, 5, 0], [0, 0, 5], [4.5, 5, 0]]]);
    assert.deepEqual(await ctcConstrainedDecode(logits, { min: 2, max: 2 }), [[1, 1]]);
    assert.deepEqual(await ctcConstrainedDecode(logits, { min: 2, max: 2, distinct: true }), [[1, 0]]);
    logits.dispose();
  });

  it('agrees with greedy decoding when the greedy text has an allowed length', async () => {
    const logits = tf.tensor3d(randomLogits([20, 40, 37], 5));
    assert.deepEqual(await ctcConstrainedDecode(logits, { min: 0, max: 40 }), await ctcGreedyDecode(logits));
    logits.dispose();
  });

  it('reads a fourth character where greedy decoding merged two frames of it into three', async () => {
    // Blank = 3. The greedy path "0 1 1 2" reads 0 1 2; frame 2 is nearly as sure of '0', and
    // "0 1 0 2" is the best path that reads four characters.
    const logits = tf.tensor3d([[[5, 0, 0, 0], [0, 5, 0, 0], [4, 4.5, 0, 0], [0, 0, 5, 0]]]);
    assert.deepEqual(await ctcGreedyDecode(logits), [[0, 1, 2]]);
    assert.deepEqual(await ctcConstrainedDecode(logits, { min: 4, max: 4 }), [[0, 1, 0, 2]]);
    logits.dispose();
  });

  it('refuses impossible or invalid length ranges', async () => {
    const logits = tf.tensor3d([[[1, 0], [0, 1]]]);
    await assert.rejects(ctcConstrainedDecode(logits, { min: 3, max: 3 }), /texts of 3 characters cannot come out of 2 frames/);
    await assert.rejects(ctcConstrainedDecode(logits, { min: 2, max: 1 }), /text length range 2\.\.1 is invalid/);
    logits.dispose();
  });
});
