import { strict as assert } from 'assert';
import { DEFAULT_TRAIN_CONFIG, learningRateAt, resolveTrainConfig } from '../../src/train';

describe('training config', () => {
  it('defaults to the original experiment: seed net, Adam 0.001, 3 epochs, batch 32, 90/10', () => {
    const c = resolveTrainConfig({});
    assert.equal(c.model, 'seed');
    assert.equal(c.optimizer, 'adam');
    assert.equal(c.learningRate, 0.001);
    assert.equal(c.epochs, 3);
    assert.equal(c.batchSize, 32);
    assert.equal(c.validationSplit, 0.1);
  });

  it('lets later layers override earlier ones (defaults <- file <- flags)', () => {
    const c = resolveTrainConfig({ epochs: 5, batchSize: 64 }, { epochs: 7, batchSize: undefined });
    assert.equal(c.epochs, 7);
    assert.equal(c.batchSize, 64);
  });

  it('names every invalid hyperparameter with its value', () => {
    assert.throws(
      () => resolveTrainConfig({ batchSize: -1, learningRate: 0, optimizer: 'adamw' as never }),
      (err: Error) =>
        /batchSize: batch size must be > 0 \(got -1\)/.test(err.message) &&
        /learningRate: learning rate must be > 0 \(got 0\)/.test(err.message) &&
        /optimizer: .*adam.*\(got "adamw"\)/.test(err.message),
    );
    assert.throws(() => resolveTrainConfig({ epochs: 1.5 }), /epochs: epochs must be a whole number \(got 1.5\)/);
    assert.throws(() => resolveTrainConfig({ epochz: 3 } as never), /unknown setting\(s\) epochz; known: run, /);
    for (const run of ['../x', '..', '.', '/abs', 'a/b']) {
      assert.throws(() => resolveTrainConfig({ run }), /run: run name must be one folder name inside --models-dir: .*; put any parent folder in --models-dir/, run);
    }
    assert.equal(resolveTrainConfig({ run: 'v1.2_a-b' }).run, 'v1.2_a-b');
  });

  it('takes a mix of versions and sizes for the stream only, and names a bad one', () => {
    const mix = { versions: ['0.7.1', '0.2.2'], width: [140, 170], height: [60, 80] };
    assert.deepEqual(resolveTrainConfig({ source: 'stream', mix }).mix, mix);
    assert.throws(() => resolveTrainConfig({ mix }), /mix draws fresh images of several versions and sizes, but source is folder; use --source stream or drop the mix/);
    assert.throws(() => resolveTrainConfig({ source: 'stream', mix: { ...mix, width: [170, 140] } }), /mix\.width: mix width must be \[min, max\] in pixels, 8 <= min <= max <= 4096 \(got \[170,140\]\)/);
    assert.throws(() => resolveTrainConfig({ source: 'stream', mix: { ...mix, versions: ['0.9'] } }), /mix\.versions\.0/);
    assert.throws(() => resolveTrainConfig({ source: 'stream', mix: { ...mix, versions: [] } }), /mix versions must list at least one version/);
  });

  it('schedules the learning rate: constant, warm-up, cosine to the minimum, step decay', () => {
    const base = { ...DEFAULT_TRAIN_CONFIG, learningRate: 1 };
    assert.equal(learningRateAt(base, 50, 100), 1);
    assert.equal(learningRateAt({ ...base, warmupSteps: 10 }, 4, 100), 0.5);
    const cos = { ...base, schedule: 'cosine' as const, minLearningRate: 0.1 };
    assert.equal(learningRateAt(cos, 0, 100), 1);
    assert.ok(Math.abs(learningRateAt(cos, 50, 100) - 0.55) < 1e-12);
    assert.ok(Math.abs(learningRateAt(cos, 100, 100) - 0.1) < 1e-12);
    const step = { ...base, schedule: 'step' as const };
    assert.deepEqual([0, 49, 50, 75].map((s) => learningRateAt(step, s, 100)), [1, 1, 0.1, 0.01]);
  });
});
