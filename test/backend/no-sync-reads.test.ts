/**
 * The WebGPU backend in Node cannot read a tensor synchronously (`dataSync`, `arraySync`,
 * `bufferSync` need an OffscreenCanvas there); only `await t.data()` / `await t.array()` work. These
 * tests keep every read of training, validation, evaluation, prediction, CTC decoding and
 * inspection asynchronous: they run on the cpu backend (the plain paths a GPU backend takes, no
 * fused native kernels) with the synchronous reads replaced by functions that throw, and scan
 * src/ for new synchronous reads.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { activationStats, evaluateHeldOut, evaluateViews, predictTexts } from '../../src/eval';
import { fileBatches } from '../../src/eval/image-batches';
import {
  ctcConstrainedDecode, ctcGreedyDecode, ctcLoss, createCrnnNet, crnnDecode, encodeCtcLabels, getModelSpec, loadModel, readCtcLabels, registerModel,
  textsToCtcLabels,
} from '../../src/models';
import { train, type TrainConfig } from '../../src/train';
import { perPositionHeads, seededInitializers } from '../../src/models/per-position-heads';
import { forwardPassRows } from '../../src/viz';
import { tempDir, writeToyDataset } from '../helpers';

const SYNC_READS = ['dataSync', 'arraySync', 'bufferSync'] as const;

/**
 * Small versions of the two kinds of model, fast on the cpu backend: per-position heads (the
 * library's own, with seeded dropout) behind a conv, batch norm and ReLU block; the crnn with few
 * filters and units.
 */
registerModel({
  name: 'async-reads-per-position-test',
  description: 'test-only: conv, batch norm, ReLU, pool, then the per-position heads',
  head: 'per-position',
  defaultInput: { height: 24, width: 40, channels: 1 },
  create: ({ height, width, channels, numClasses, numPositions, seed }) => {
    const init = seededInitializers(seed);
    const input = tf.input({ shape: [height, width, channels] });
    let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: init() }).apply(input) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization().apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 4 }).apply(x) as tf.SymbolicTensor;
    return tf.model({ inputs: input, outputs: perPositionHeads(x, { numClasses, numPositions, seed, dropout: 0.2, init }) });
  },
});
registerModel({
  name: 'async-reads-crnn-test',
  description: 'test-only: the crnn with few filters and units',
  head: 'ctc',
  defaultInput: { height: 24, width: 40, channels: 1 },
  create: (options) => createCrnnNet({ ...options, filters: [4, 8, 8, 8], headUnits: 16, dropout: 0.1 }),
});

/**
 * Runs `run` with every synchronous read throwing: the tensor methods, and the engine's readSync
 * through which they all go (backends' own kernels read their host memory directly and keep
 * working). Restores them afterwards, whatever happens.
 */
async function withoutSyncReads<T>(run: () => Promise<T>): Promise<T> {
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const engine = tf.engine() as unknown as Record<string, unknown>;
  const refuse = (name: string) => () => {
    throw new Error(`synchronous read ${name}() on the '${tf.getBackend()}' backend: the WebGPU backend cannot do this in Node; read with await data() / array()`);
  };
  const saved = SYNC_READS.map((name) => proto[name]);
  const engineOwn = Object.prototype.hasOwnProperty.call(engine, 'readSync');
  const engineSaved = engine.readSync;
  SYNC_READS.forEach((name) => (proto[name] = refuse(name)));
  engine.readSync = refuse('engine.readSync');
  try {
    return await run();
  } finally {
    SYNC_READS.forEach((name, i) => (proto[name] = saved[i]));
    if (engineOwn) engine.readSync = engineSaved;
    else delete engine.readSync;
  }
}

describe('asynchronous reads only (what the WebGPU backend allows in Node)', function () {
  this.timeout(120000);
  let previousBackend: string | undefined;
  let work: ReturnType<typeof tempDir>;
  let base: Partial<TrainConfig>;
  let dataDir: string;

  before(async () => {
    previousBackend = tf.engine().backendName;
    await tf.setBackend('cpu');
    work = tempDir();
    dataDir = path.join(work.dir, 'data');
    writeToyDataset(dataDir, 24);
    base = {
      alphabet: '0123', length: 2, dataDir, modelsDir: path.join(work.dir, 'models'), height: 24, width: 40, channels: 1,
      epochs: 1, batchSize: 8, validationSplit: 0.25, seed: 3,
      // a curve point after every batch: validation on a few images in the middle of the epoch
      curveEveryMinutes: 1e-9, curveImages: 4,
    };
  });
  after(async () => {
    if (previousBackend) await tf.setBackend(previousBackend);
    work.cleanup();
  });

  it('makes a synchronous read fail inside the guard, and only there', async () => {
    const t = tf.tensor1d([1, 2]);
    await withoutSyncReads(async () => {
      for (const name of SYNC_READS) assert.throws(() => (t[name] as () => unknown)(), new RegExp(`synchronous read ${name}\\(\\)`));
      assert.deepEqual(Array.from(await t.data()), [1, 2]);
      assert.deepEqual(await t.array(), [1, 2]);
    });
    assert.deepEqual(t.arraySync(), [1, 2]);
    t.dispose();
  });

  for (const model of ['async-reads-per-position-test', 'async-reads-crnn-test']) {
    it(`trains ${model} (steps, validation, curve points, checkpoints), then evaluates, predicts and inspects it`, async () => {
      await withoutSyncReads(async () => {
        const { record, runDir } = await train({ ...base, model, run: model });
        assert.equal(record.history.length, 1);
        assert.ok(Number.isFinite(record.history[0].loss) && Number.isFinite(record.history[0].valLoss), JSON.stringify(record.history[0]));
        assert.ok(record.curve.length > 0, 'curve points were scored');

        const held = await evaluateHeldOut(runDir);
        assert.equal(held.report.count, 6);
        const { model: loaded, metadata } = held;
        const head = getModelSpec(model).head;
        const files = held.files.map((file, i) => ({ file, label: held.report.actual[i] }));
        const batch = (await fileBatches(files, metadata.input).next()).value;
        try {
          // greedy CTC decoding (evaluateHeldOut decoded with the training texts' rules)
          const texts = await predictTexts(loaded, batch.xs, metadata.alphabet, head);
          assert.equal(texts.length, 6);
          if (head === 'ctc') assert.deepEqual(await crnnDecode(loaded, batch.xs, metadata.alphabet), texts);
          const views = await evaluateViews(loaded, fileBatches(files, metadata.input), { alphabet: metadata.alphabet, head, views: [{ name: 'as is' }] });
          assert.equal(views.length, 1);
          assert.ok((await activationStats(loaded, batch.xs)).length > 0);
          assert.ok((await forwardPassRows(loaded, batch.xs)).length > 0);
        } finally {
          batch.xs.dispose();
          loaded.dispose();
        }
        const again = await loadModel(runDir);
        assert.equal(again.metadata.architecture, model);
        again.model.dispose();
      });
    });
  }

  it('computes the CTC loss from host labels and decodes, greedy and constrained', async () => {
    await withoutSyncReads(async () => {
      const logits = tf.randomNormal([2, 6, 4], 0, 1, 'float32', 9) as tf.Tensor3D;
      const { labels, labelLengths } = encodeCtcLabels(['ab', 'c'], 'abc');
      try {
        assert.deepEqual(await readCtcLabels(labels, labelLengths), textsToCtcLabels(['ab', 'c'], 'abc'));
        const loss = ctcLoss(textsToCtcLabels(['ab', 'c'], 'abc'), logits, [6, 4]);
        const grad = tf.grad((x: tf.Tensor) => ctcLoss([[0, 1], [2]], x as tf.Tensor3D).sum())(logits);
        assert.ok((await loss.data()).every(Number.isFinite));
        assert.ok((await grad.data()).every(Number.isFinite));
        tf.dispose([loss, grad]);
        assert.equal((await ctcGreedyDecode(logits, [6, 3])).length, 2);
        const constrained = await ctcConstrainedDecode(logits, { min: 2, max: 2, distinct: true });
        assert.equal(constrained.length, 2);
        assert.ok(constrained.every((s) => s.length === 2));
      } finally {
        tf.dispose([logits, labels, labelLengths]);
      }
    });
  });
});

/** Files of src/ allowed a synchronous read, and why it cannot reach a GPU backend. */
const ALLOWED_SYNC_READS: Record<string, string> = {
  'src/backend/fused/kernels.ts': 'probes a oneDNN kernel on the native tensorflow backend only, where synchronous reads work',
};

describe('src/ reads tensors asynchronously', () => {
  const root = path.resolve(__dirname, '..', '..', '..');
  const sources = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
  /** Calls of a synchronous read outside comments (fs.readSync reads files, not tensors). */
  const syncReads = (file: string): string[] => {
    const code = fs
      .readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    return [...code.matchAll(/\b(dataSync|arraySync|bufferSync)\s*\(|(?<!\bfs)\.readSync\s*\(/g)].map((m) => m[0]);
  };

  it('has no synchronous read outside the allow-list, and no allow-list entry without one', () => {
    const found = new Map<string, string[]>();
    for (const file of sources(path.join(root, 'src'))) {
      const calls = syncReads(file);
      if (calls.length > 0) found.set(path.relative(root, file).split(path.sep).join('/'), calls);
    }
    const unexpected = [...found].filter(([file]) => !(file in ALLOWED_SYNC_READS)).map(([file, calls]) => `${file}: ${calls.join(', ')}`);
    assert.deepEqual(unexpected, [], 'read with await t.data() / t.array(): the WebGPU backend cannot read synchronously in Node');
    const stale = Object.keys(ALLOWED_SYNC_READS).filter((file) => !found.has(file));
    assert.deepEqual(stale, [], 'these files no longer read synchronously: remove them from ALLOWED_SYNC_READS');
  });
});
