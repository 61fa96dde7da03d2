import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from '../helpers';

describe('evaluateHeldOut', () => {
  it('evaluates a run on exactly the images its seeded split held out, with their files', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { registerModel, saveModel } = await import('../../src/models');
    const { splitIndices } = await import('../../src/data/split');
    const { evaluateHeldOut } = await import('../../src/eval');
    const { writeToyDataset, useNativeBackend } = await import('../helpers');
    await useNativeBackend();
    registerModel({
      name: 'held-out-toy-test',
      description: 'test-only: flatten + two heads',
      head: 'per-position',
      defaultInput: { height: 24, width: 40, channels: 1 },
      create: ({ height, width, channels, numClasses, numPositions }) => {
        const input = tf.input({ shape: [height, width, channels] });
        const x = tf.layers.flatten().apply(input) as import('@tensorflow/tfjs').SymbolicTensor;
        const outputs = Array.from({ length: numPositions }, (_, i) => tf.layers.dense({ units: numClasses, activation: 'softmax', name: `digit${i + 1}` }).apply(x) as import('@tensorflow/tfjs').SymbolicTensor);
        return tf.model({ inputs: input, outputs });
      },
    });
    const { dir, cleanup } = tempDir();
    try {
      const dataDir = path.join(dir, 'held-out-toy-data'); // a name the working directory lacks
      const labels = writeToyDataset(dataDir, 20);
      const runDir = path.join(dir, 'nb-run');
      const input = { height: 24, width: 40, channels: 1 };
      const model = (await import('../../src/models')).createModel('held-out-toy-test', { ...input, numClasses: 4, numPositions: 2 });
      await saveModel(model, runDir, { architecture: 'held-out-toy-test', alphabet: '0123', input, length: 2 });
      const config = { source: 'folder', dataDir, validationSplit: 0.25, seed: 7 };
      fs.writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ config, history: [] }));
      const before = tf.memory().numTensors;
      const result = await evaluateHeldOut(runDir);
      const { test } = splitIndices(20, 0.25, 7);
      assert.deepEqual(result.report.actual, test.map((i) => labels[i]));
      assert.deepEqual(result.files.map((f) => path.basename(f)), test.map((i) => `${i}.png`));
      assert.equal(result.report.count, 5);
      result.model.dispose();
      assert.equal(tf.memory().numTensors, before);

      // a CLI run records its folder relative to the project root; found from <root>/models/<run>
      const cliRun = path.join(dir, 'models', 'cli-run');
      await saveModel(model, cliRun, { architecture: 'held-out-toy-test', alphabet: '0123', input, length: 2 });
      fs.writeFileSync(path.join(cliRun, 'run.json'), JSON.stringify({ config: { ...config, dataDir: 'held-out-toy-data' }, history: [] }));
      const fromRoot = await evaluateHeldOut(cliRun);
      assert.deepEqual(fromRoot.report.actual, result.report.actual);
      fromRoot.model.dispose();
      model.dispose();
    } finally {
      cleanup();
    }
  });
});
