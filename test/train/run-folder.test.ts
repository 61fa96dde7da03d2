import { strict as assert } from 'assert';
import { execSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FOLDER_LOCK_FILE } from '../../src/files';
import { effectiveConfig, flagOf, train, type TrainConfig } from '../../src/train';
import { tempDir, useNativeBackend, writeToyDataset } from '../helpers';

/** Every file under `dir` with its bytes, to show that a refused run changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files[path.relative(dir, file)] = fs.readFileSync(file).toString('base64');
    }
  }
  return files;
}

describe('the run folder of train', function () {
  this.timeout(120000);
  let work: ReturnType<typeof tempDir>;
  let models: string;
  /** The built-in `bench` network at the toy dataset's size: trains an epoch in a fraction of a second. */
  let config: Partial<TrainConfig>;

  before(async () => {
    await useNativeBackend();
    work = tempDir();
    models = path.join(work.dir, 'models');
    writeToyDataset(path.join(work.dir, 'data'), 40);
    config = {
      model: 'bench', height: 24, width: 40, channels: 1, alphabet: '0123', length: 2,
      dataDir: path.join(work.dir, 'data'), modelsDir: models, epochs: 1, batchSize: 16, seed: 3,
    };
  });
  after(() => work.cleanup());

  /** A run stopped by an abort after `batches` batches of its first epoch, as Ctrl-C would. */
  async function interruptedRun(run: string, settings: Partial<TrainConfig> = {}, batches = 2): Promise<void> {
    const controller = new AbortController();
    const { interrupted } = await train({ ...config, ...settings, run }, {
      signal: controller.signal,
      callbacks: { onBatch: (p) => p.batch === batches && controller.abort() },
    });
    assert.equal(interrupted, true);
  }

  describe('a folder that already holds a model', () => {
    it('is refused without --overwrite, and nothing in it changes', async () => {
      await train({ ...config, run: 'kept' });
      const dir = path.join(models, 'kept');
      fs.rmSync(path.join(dir, 'checkpoint'), { recursive: true }); // like the shipped models/pretrained
      fs.writeFileSync(path.join(dir, 'evaluation-fresh.json'), '{}');
      const before = snapshot(dir);
      await assert.rejects(
        train({ ...config, run: 'kept' }),
        /'.*kept' already holds a model \(model.json, weights.bin, metadata.json, run.json, evaluation-fresh.json\) that training would replace; choose another --run, or pass --overwrite/,
      );
      assert.deepEqual(snapshot(dir), before);
    });

    it('is refused with its checkpoint too, naming --resume and --overwrite', async () => {
      await train({ ...config, run: 'whole' });
      await assert.rejects(train({ ...config, run: 'whole' }), /run 'whole' already exists in .*; pass --resume to continue it, --overwrite to replace it, or choose another --run/);
    });

    it('is replaced with --overwrite: the old model, checkpoint and evaluation reports go, and the log says so', async () => {
      await train({ ...config, run: 'old', seed: 1 });
      const dir = path.join(models, 'old');
      fs.writeFileSync(path.join(dir, 'evaluation-fresh.json'), '{}');
      fs.writeFileSync(path.join(dir, 'evaluation.json'), '{}');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
      const oldWeights = fs.readFileSync(path.join(dir, 'weights.bin'));
      const lines: string[] = [];
      const { record } = await train({ ...config, run: 'old', seed: 2 }, { overwrite: true, callbacks: { onLog: (l) => lines.push(l) } });
      assert.ok(
        lines.some((l) => /--overwrite: moved the previous run's model.json, weights.bin, metadata.json, run.json, checkpoint\/, evaluation-fresh.json, evaluation.json from .* to .*\.replaced; it is deleted once this run saves a model/.test(l)),
        lines.join('\n'),
      );
      assert.ok(lines.some((l) => /deleted the replaced run kept in .*\.replaced/.test(l)), lines.join('\n'));
      assert.ok(!fs.existsSync(path.join(dir, '.replaced')), 'the old run is gone once the new one has a model');
      assert.ok(!fs.existsSync(path.join(dir, 'evaluation-fresh.json')) && !fs.existsSync(path.join(dir, 'evaluation.json')), 'stale reports removed');
      assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine', 'files that are not the model stay');
      assert.notDeepEqual(fs.readFileSync(path.join(dir, 'weights.bin')), oldWeights);
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')).config.seed, 2);
      assert.equal(record.config.seed, 2);
    });

    /** `train --overwrite` of `run`, stopped in its first epoch: what it logged. */
    async function overwriteStoppedInEpoch1(run: string, seed: number): Promise<string[]> {
      const controller = new AbortController();
      const lines: string[] = [];
      const { interrupted } = await train({ ...config, run, seed }, {
        overwrite: true, signal: controller.signal,
        callbacks: { onBatch: (p) => p.batch === 1 && controller.abort(), onLog: (l) => lines.push(l) },
      });
      assert.equal(interrupted, true);
      return lines;
    }

    it('keeps the old run aside while --overwrite has saved no model: stopped in epoch 1 (twice), the old run is whole, guarded, and its restore command works', async () => {
      await train({ ...config, run: 'aside', seed: 1 });
      const dir = path.join(models, 'aside');
      fs.writeFileSync(path.join(dir, 'evaluation.json'), '{}');
      const old = snapshot(dir);
      const lines = await overwriteStoppedInEpoch1('aside', 2);
      const hint = lines.find((l) => /the run this one replaces is kept in .*\.replaced until this run saves a model; to go back to it: rm -rf /.test(l));
      assert.ok(hint, lines.join('\n'));
      assert.deepEqual(snapshot(path.join(dir, '.replaced')), old, 'the old run, every file as it was');
      assert.ok(!fs.existsSync(path.join(dir, 'model.json')) && fs.existsSync(path.join(dir, 'checkpoint')), 'beside it only the stopped run');
      // a second --overwrite stopped the same way keeps the old run, not the first stopped one
      const again = await overwriteStoppedInEpoch1('aside', 3);
      assert.ok(again.some((l) => /--overwrite: removed run.json, checkpoint\/ of a run that stopped before saving a model; the run before it stays in /.test(l)), again.join('\n'));
      assert.deepEqual(snapshot(path.join(dir, '.replaced')), old);
      // a new run without --overwrite would delete it after its first epoch: refused, naming the way out
      await assert.rejects(train({ ...config, run: 'aside', seed: 4 }), /keeps the run an --overwrite replaced, in .*\.replaced .*pass --overwrite to replace it after all, --resume to go on with the stopped run, or choose another --run \(to go back to it: rm -rf /);
      // the logged command puts it back as it was
      execSync(hint!.slice(hint!.indexOf('to go back to it: ') + 'to go back to it: '.length), { shell: '/bin/bash' });
      assert.deepEqual(snapshot(dir), old);
      assert.ok(!fs.existsSync(path.join(dir, '.replaced')));
    });

    it('deletes the kept run once the stopped --overwrite, resumed, saves its model', async () => {
      await train({ ...config, run: 'resumed', seed: 1 });
      const dir = path.join(models, 'resumed');
      await overwriteStoppedInEpoch1('resumed', 2);
      const { record } = await train({ run: 'resumed', modelsDir: models }, { resume: true });
      assert.equal(record.config.seed, 2);
      assert.ok(fs.existsSync(path.join(dir, 'model.json')) && !fs.existsSync(path.join(dir, '.replaced')));
    });

    it('keeps the newer model when the folder holds one beside a kept run (a run that died before deleting it)', async () => {
      await train({ ...config, run: 'newer', seed: 1 });
      const dir = path.join(models, 'newer');
      fs.rmSync(path.join(dir, 'checkpoint'), { recursive: true });
      const newer = snapshot(dir);
      fs.mkdirSync(path.join(dir, '.replaced'));
      fs.writeFileSync(path.join(dir, '.replaced', 'model.json'), '{"older": true}');
      const lines = await overwriteStoppedInEpoch1('newer', 2);
      assert.ok(lines.some((l) => /--overwrite: moved the previous run's model.json, weights.bin, metadata.json, run.json from /.test(l)), lines.join('\n'));
      assert.deepEqual(snapshot(path.join(dir, '.replaced')), newer, 'the newer model is the one kept');
    });

    it('loses nothing when --overwrite is refused for a mistake in the new settings', async () => {
      await train({ ...config, run: 'safe' });
      const dir = path.join(models, 'safe');
      const before = snapshot(dir);
      await assert.rejects(train({ ...config, run: 'safe', dataDir: path.join(work.dir, 'typo') }, { overwrite: true }), /dataset folder '.*typo' does not exist/);
      assert.deepEqual(snapshot(dir), before);
    });

    it('loses nothing when --overwrite is refused by the plateau stop rules', async () => {
      await train({ ...config, run: 'rules' });
      const dir = path.join(models, 'rules');
      fs.writeFileSync(path.join(dir, 'evaluation.json'), '{}');
      const before = snapshot(dir);
      await assert.rejects(
        train({ ...config, run: 'rules', plateauProbeEvery: 0 }, { overwrite: true, stopWhenStuck: true }),
        /stop-when-stuck\/escaped needs the plateau probe/,
      );
      assert.deepEqual(snapshot(dir), before);
    });
  });

  it('refuses run names that leave --models-dir, and writes nothing', async () => {
    const before = snapshot(work.dir);
    for (const run of ['..', '.', '../escaped', '/tmp/abs', 'a/b']) {
      await assert.rejects(
        train({ ...config, run }),
        /invalid training config: run: run name must be one folder name inside --models-dir: letters, digits, \. _ - \(not '\.' or '\.\.'\); put any parent folder in --models-dir/,
        run,
      );
      await assert.rejects(train({ ...config, run }, { resume: true }), /run name must be one folder name inside --models-dir/, `${run} --resume`);
    }
    assert.deepEqual(snapshot(work.dir), before);
  });

  it('leaves no empty run folder behind when a run fails before training', async () => {
    await assert.rejects(train({ ...config, run: 'never', dataDir: path.join(work.dir, 'nope') }), /does not exist/);
    assert.ok(!fs.existsSync(path.join(models, 'never')));
  });

  it('keeps the error that ended a run when another train takes its new folder as it is released', async () => {
    // Node's own fs object, which run-folder's `import * as fs` reads through
    const nodeFs = require('fs') as typeof fs;
    const rmdir = nodeFs.rmdirSync;
    const dir = path.join(models, 'taken');
    const other = JSON.stringify({ pid: 1, host: 'other', command: 'train', since: '' });
    nodeFs.rmdirSync = ((target: fs.PathLike, ...rest: []) => {
      // the other train locks the folder right after ours is unlocked
      if (path.resolve(String(target)) === path.resolve(dir)) fs.writeFileSync(path.join(dir, FOLDER_LOCK_FILE), other);
      return rmdir(target, ...rest);
    }) as typeof fs.rmdirSync;
    try {
      await assert.rejects(train({ ...config, run: 'taken', dataDir: path.join(work.dir, 'nope') }), /dataset folder '.*nope' does not exist/);
    } finally {
      nodeFs.rmdirSync = rmdir;
    }
    assert.equal(fs.readFileSync(path.join(dir, FOLDER_LOCK_FILE), 'utf8'), other, "the other train's lock stays");
  });

  it('fails at once on --models-dir under /proc, where creating folders is refused', async function () {
    if (!fs.existsSync('/proc/self')) this.skip();
    await assert.rejects(train({ ...config, run: 'r', modelsDir: '/proc/captcha-lab/models' }), /cannot create the run folder '\/proc\/captcha-lab\/models\/r' \(ENOENT\)/);
  });

  it('refuses a folder that is a file, naming it', async () => {
    fs.mkdirSync(models, { recursive: true });
    fs.writeFileSync(path.join(models, 'file-run'), '');
    await assert.rejects(train({ ...config, run: 'file-run' }), /'.*file-run' is a file, not a run folder; choose another --run/);
    await assert.rejects(train({ ...config, modelsDir: path.join(models, 'file-run'), run: 'x' }), /cannot create the run folder '.*file-run\/x': '.*file-run' \(or a folder above it\) is a file; choose another --models-dir/);
  });

  it('locks the folder while training and unlocks it however training ends', async () => {
    let lockedDuring = false;
    await train({ ...config, run: 'locked' }, { callbacks: { onBatch: () => (lockedDuring = fs.existsSync(path.join(models, 'locked', FOLDER_LOCK_FILE))) } });
    assert.ok(lockedDuring, 'lock file present during training');
    assert.ok(!fs.existsSync(path.join(models, 'locked', FOLDER_LOCK_FILE)), 'lock removed after a finished run');
    await interruptedRun('locked-stopped');
    assert.ok(!fs.existsSync(path.join(models, 'locked-stopped', FOLDER_LOCK_FILE)), 'lock removed after an interrupted run');
  });

  describe('--resume', () => {
    it('continues a run from its name alone, with the settings it was started with', async () => {
      await interruptedRun('parts', { epochs: 2 });
      const { record, interrupted } = await train({ run: 'parts', modelsDir: models }, { resume: true });
      assert.equal(interrupted, false);
      assert.equal(record.completed, true);
      assert.equal(record.history.length, 2);
      assert.equal(record.resumes, undefined, 'nothing changed: the run\'s own settings were used');
    });

    it('accepts the run\'s own settings given again, the dataset folder however written', async () => {
      await interruptedRun('again');
      const relative = path.relative(process.cwd(), config.dataDir as string);
      const { record } = await train({ ...config, dataDir: relative, run: 'again' }, { resume: true });
      assert.equal(record.resumes, undefined);
      assert.equal(record.completed, true);
    });

    it('takes a setting the run\'s record predates as its default, not as a conflict', async () => {
      await interruptedRun('older');
      const state = path.join(models, 'older', 'checkpoint', 'state.json');
      const saved = JSON.parse(fs.readFileSync(state, 'utf8'));
      delete saved.record.config.validationSplit; // as written before the setting existed (its default: 0.1)
      fs.writeFileSync(state, JSON.stringify(saved));
      const { record } = await train({ ...config, run: 'older', validationSplit: 0.1 }, { resume: true });
      assert.equal(record.completed, true);
      assert.equal(record.resumes, undefined, 'giving the default it ran with is no change');
      assert.equal(effectiveConfig(record).validationSplit, 0.1);
    });

    it('lets a resume lengthen a run, recording the change', async () => {
      await interruptedRun('longer');
      const { record } = await train({ run: 'longer', modelsDir: models, epochs: 2 }, { resume: true });
      assert.deepEqual(record.resumes?.[0].changed, { epochs: { from: 1, to: 2 } });
      assert.equal(effectiveConfig(record).epochs, 2);
      assert.equal(record.history.length, 2);
    });

    it('refuses settings the run was not trained with, by name, and changes nothing', async () => {
      await interruptedRun('fixed');
      const before = snapshot(path.join(models, 'fixed'));
      await assert.rejects(
        train({ run: 'fixed', modelsDir: models, dataDir: path.join(work.dir, 'other'), seed: 9, model: 'seed', epochs: 4 }, { resume: true }),
        (err: Error) => {
          assert.match(err.message, /^cannot resume run 'fixed' with settings it was not trained with: /);
          assert.match(err.message, /dataDir \(--data-dir\) ".*other", but the run has ".*data"/);
          assert.match(err.message, /seed \(--seed\) 9, but the run has 3/);
          assert.match(err.message, /model \(--model\) "seed", but the run has "bench"/);
          assert.doesNotMatch(err.message.split('. Leave them out')[0], /epochs/, 'epochs may change');
          assert.match(err.message, /only --epochs, --lr, .* may change\), or train a new run with another --run$/);
          return true;
        },
      );
      assert.deepEqual(snapshot(path.join(models, 'fixed')), before);
    });

    it('refuses a run that does not exist instead of starting one, listing those that can be resumed', async () => {
      await interruptedRun('exists');
      await assert.rejects(
        train({ ...config, run: 'typo' }, { resume: true }),
        /cannot resume run 'typo': there is no folder '.*typo'; check --run and --models-dir \(runs that can be resumed in '.*': .*exists.*\), or leave out --resume to start a new run/,
      );
      assert.ok(!fs.existsSync(path.join(models, 'typo')), 'no folder created');
    });

    it('refuses a model folder without a checkpoint, and a folder without anything', async () => {
      await train({ ...config, run: 'finished' });
      fs.rmSync(path.join(models, 'finished', 'checkpoint'), { recursive: true });
      await assert.rejects(train({ ...config, run: 'finished' }, { resume: true }), /cannot resume run 'finished': '.*finished' holds a model but no checkpoint\/ to continue from/);
      fs.mkdirSync(path.join(models, 'bare'));
      await assert.rejects(train({ ...config, run: 'bare' }, { resume: true }), /cannot resume run 'bare': '.*bare' has no checkpoint\/ \(the run stopped before saving one\); leave out --resume to start it over/);
    });

    it('cannot be combined with --overwrite', async () => {
      await interruptedRun('both');
      await assert.rejects(train({ ...config, run: 'both' }, { resume: true, overwrite: true }), /--resume continues a run and --overwrite replaces it: pass only one of them/);
    });
  });

  it('names settings by their flags', () => {
    assert.equal(flagOf('dataDir'), '--data-dir');
    assert.equal(flagOf('learningRate'), '--lr');
    assert.equal(flagOf('validationSplit'), '--val-split');
    assert.equal(flagOf('seed'), '--seed');
  });
});
