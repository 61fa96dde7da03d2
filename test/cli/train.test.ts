import { strict as assert } from 'assert';
import { spawn, type ChildProcess, type SpawnOptions } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { configFromFlags, readConfigFile, resumeCommand } from '../../src/cli/train';
import { buildProgram } from '../../src/cli/main';
import { FOLDER_LOCK_FILE } from '../../src/files';
import { train } from '../../src/train';
import { tempDir, useNativeBackend, writeToyDataset } from '../helpers';

const CLI = path.join(__dirname, '../../src/cli/main.js');

/** A `captcha-lab` process, its output collected as it comes. */
interface CliProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the output so far once it matches `pattern`; rejects if the process exits first. */
  waitFor: (pattern: RegExp) => Promise<string>;
  exited: Promise<number | null>;
}

/** Spawn options, and `via`: a command (with its arguments) that runs node, e.g. to drop privileges. */
interface CliOptions extends SpawnOptions {
  via?: string[];
}

function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const { via = [], ...spawnOptions } = options;
  const argv = [...via, process.execPath, CLI, ...args];
  const child = spawn(argv[0], argv.slice(1), { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners: Array<() => void> = [];
  const collect = (d: Buffer) => {
    output += d.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = (pattern: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => pattern.test(output) && resolve(output);
      listeners.push(check);
      check();
      void exited.then((code) => reject(new Error(`exited with ${code} before ${pattern}:\n${output}`)));
    });
  return { child, output: () => output, waitFor, exited };
}

/** Runs `captcha-lab` to the end: its exit status and output. */
async function runCli(args: string[], options: CliOptions = {}): Promise<{ status: number | null; output: string }> {
  const cli = startCli(args, options);
  const status = await cli.exited;
  return { status, output: cli.output() };
}

describe('captcha-lab train (command line)', () => {
  it('maps flags to config keys and leaves unset flags out', () => {
    const config = configFromFlags({ lr: 0.01, valSplit: 0.2, minLr: 0.001, epochs: 2, height: 60, run: 'x', gpu: true, config: 'c.json', resume: true });
    assert.deepEqual(config, { learningRate: 0.01, validationSplit: 0.2, minLearningRate: 0.001, epochs: 2, height: 60, run: 'x' });
  });

  it('parses every documented flag into the config through commander', async () => {
    const program = buildProgram().exitOverride();
    const cmd = program.commands.find((c) => c.name() === 'train');
    assert.ok(cmd);
    cmd.action(() => undefined); // parse only, train nothing
    await program.parseAsync(['node', 'captcha-lab', 'train', '--run', 'r', '--epochs', '5', '--batch-size', '16', '--lr', '0.002', '--schedule', 'cosine', '--source', 'stream', '--min-length', '3', '--fit', 'letterbox']);
    assert.deepEqual(configFromFlags(cmd.opts()), { run: 'r', epochs: 5, batchSize: 16, learningRate: 0.002, schedule: 'cosine', source: 'stream', minLength: 3, fit: 'letterbox' });
  });

  it('reads the 2017 optimizer, the init scheme and the plateau settings from flags, and the stop rules as options', async () => {
    const program = buildProgram().exitOverride();
    const cmd = program.commands.find((c) => c.name() === 'train');
    assert.ok(cmd);
    // parse only, train nothing; a refused value throws instead of exiting, quietly
    cmd.action(() => undefined).exitOverride().configureOutput({ writeErr: () => undefined });
    await program.parseAsync([
      'node', 'captcha-lab', 'train', '--init', 'mathematica', '--beta1', '0.93', '--epsilon', '1e-8', '--plateau-probe-every', '10', '--stuck-after-steps', '50', '--stop-when-stuck',
    ]);
    assert.deepEqual(configFromFlags(cmd.opts()), { init: 'mathematica', beta1: 0.93, epsilon: 1e-8, plateauProbeEvery: 10, stuckAfterSteps: 50 });
    assert.equal(cmd.opts().stopWhenStuck, true);
    assert.equal(cmd.opts().stopWhenEscaped, undefined);
    await assert.rejects(program.parseAsync(['node', 'captcha-lab', 'train', '--init', 'xavier']), /Allowed choices are mathematica, he, glorot/);
  });

  it('reads a mix of versions and sizes, a starting model and its frozen layers from flags, with the common sizes as the default', async () => {
    const parse = async (...args: string[]) => {
      const program = buildProgram().exitOverride();
      const cmd = program.commands.find((c) => c.name() === 'train')!;
      cmd.action(() => undefined).exitOverride().configureOutput({ writeErr: () => undefined });
      await program.parseAsync(['node', 'captcha-lab', 'train', ...args]);
      return configFromFlags(cmd.opts());
    };
    assert.deepEqual(await parse('--mix-versions', '0.7.1,0.2.2', '--init-from', 'models/pretrained'), {
      mix: { versions: ['0.7.1', '0.2.2'], width: [140, 170], height: [60, 80] }, initFrom: 'models/pretrained',
    });
    assert.deepEqual((await parse('--init-from', 'models/pretrained', '--freeze', 'conv1, bn1,conv2')).freeze, ['conv1', 'bn1', 'conv2']);
    await assert.rejects(parse('--freeze', ' , '), /--freeze must name layers, comma-separated \(e\.g\. conv1,bn1\), got ' , '/);
    assert.deepEqual((await parse('--mix-versions', '0.7.0', '--mix-width', '150-160', '--mix-height', '64')).mix, { versions: ['0.7.0'], width: [150, 160], height: [64, 64] });
    await assert.rejects(parse('--mix-width', '150-160'), /--mix-width and --mix-height size a mix: add --mix-versions/);
    // with a config file's mix, a size flag changes only that part of it
    const program = buildProgram().exitOverride();
    const cmd = program.commands.find((c) => c.name() === 'train')!;
    cmd.action(() => undefined);
    await program.parseAsync(['node', 'captcha-lab', 'train', '--mix-width', '150-160']);
    assert.deepEqual(configFromFlags(cmd.opts(), { mix: { versions: ['0.2.2'], width: [140, 170], height: [70, 80] } }).mix, { versions: ['0.2.2'], width: [150, 160], height: [70, 80] });
    await assert.rejects(parse('--mix-versions', '0.7.0', '--mix-width', '170-140'), /mix width must be MIN-MAX in whole pixels, 8 <= MIN <= MAX <= 4096 \(e\.g\. 140-170\), or one number, got '170-140'/);
    await assert.rejects(parse('--mix-versions', '0.7,0.2.2'), /mix versions must be a comma-separated list of 0\.7\.0, 0\.7\.1, 0\.2\.2, 0\.2\.2-pillow4, got '0\.7,0\.2\.2'/);
  });

  it('refuses a missing or malformed config file by name, and one that is not an object of settings', () => {
    const { dir, cleanup } = tempDir();
    try {
      assert.throws(() => readConfigFile(path.join(dir, 'none.json')), /cannot read config file '.*none.json'; check the path/);
      fs.writeFileSync(path.join(dir, 'bad.json'), '{ epochs: 3 ');
      assert.throws(() => readConfigFile(path.join(dir, 'bad.json')), /config file '.*bad.json' is not valid JSON/);
      for (const [text, got] of [['null', 'null'], ['[1]', 'an array'], ['3', 'a number']]) {
        fs.writeFileSync(path.join(dir, 'odd.json'), text);
        assert.throws(() => readConfigFile(path.join(dir, 'odd.json')), { message: `config file '${path.join(dir, 'odd.json')}' holds ${got}; it must be a JSON object of settings, e.g. {"model": "seed-bn", "epochs": 3} (see configs/)` });
      }
    } finally {
      cleanup();
    }
  });

  it('prints the command that resumes a run, with --models-dir only when it is not the default', () => {
    assert.equal(resumeCommand(path.join('models', 'r')), 'captcha-lab train --run r --resume');
    assert.equal(resumeCommand(path.join('/tmp', 'm', 'r')), 'captcha-lab train --run r --models-dir /tmp/m --resume');
  });

  describe('as a process', function () {
    this.timeout(120000);
    let work: ReturnType<typeof tempDir>;
    let models: string;
    /** The built-in `bench` network on a toy dataset: an epoch takes a fraction of a second. */
    let tiny: string[];

    before(() => {
      work = tempDir();
      models = path.join(work.dir, 'models');
      writeToyDataset(path.join(work.dir, 'data'), 40);
      tiny = ['train', '--model', 'bench', '--height', '24', '--width', '40', '--channels', '1', '--alphabet', '0123', '--length', '2',
        '--batch-size', '16', '--data-dir', path.join(work.dir, 'data'), '--models-dir', models];
    });
    after(() => work.cleanup());

    it('refuses a second train of the same run at once, naming the first; SIGTERM exits 143 with the resume command', async () => {
      const first = startCli([...tiny, '--run', 'busy', '--epochs', '1000']);
      try {
        await first.waitFor(/epoch 1:/);
        const second = await runCli([...tiny, '--run', 'busy', '--epochs', '1']);
        assert.equal(second.status, 1, second.output);
        const pid = first.child.pid;
        assert.match(second.output, new RegExp(`error: '.*busy' is in use by another train \\(pid ${pid} on ${os.hostname()}.*--run busy --epochs 1000\\); wait for it to finish or stop it \\(kill ${pid}\\)`));
        assert.doesNotMatch(second.output, /epoch 1:/, 'the second trained nothing');
      } finally {
        first.child.kill('SIGTERM');
      }
      assert.equal(await first.exited, 143, first.output());
      assert.match(first.output(), new RegExp(`stopped by SIGTERM before the last epoch; continue with: captcha-lab train --run busy --models-dir ${models} --resume`));
      const record = JSON.parse(fs.readFileSync(path.join(models, 'busy', 'run.json'), 'utf8'));
      assert.equal(record.completed, false);
      assert.ok(fs.existsSync(path.join(models, 'busy', 'checkpoint', 'state.json')), 'checkpoint saved');
      assert.ok(!fs.existsSync(path.join(models, 'busy', FOLDER_LOCK_FILE)), 'lock released');
    });

    it('exits 130 after Ctrl-C (SIGINT), so `train && evaluate` stops', async () => {
      const run = startCli([...tiny, '--run', 'stopped', '--epochs', '1000']);
      await run.waitFor(/epoch 1:/);
      run.child.kill('SIGINT');
      assert.equal(await run.exited, 130, run.output());
      assert.match(run.output(), /SIGINT: finishing this batch and saving a checkpoint/);
      assert.match(run.output(), /continue with: captcha-lab train --run stopped --models-dir .* --resume/);
    });

    it('recovers the lock of a killed train, and resumes it with only --run, --models-dir and --epochs', async () => {
      const killed = startCli([...tiny, '--run', 'crashed', '--epochs', '1000']);
      await killed.waitFor(/epoch 2:/); // epoch 1's checkpoint is saved before epoch 2 starts
      killed.child.kill('SIGKILL');
      await killed.exited;
      assert.ok(fs.existsSync(path.join(models, 'crashed', FOLDER_LOCK_FILE)), 'a killed train leaves its lock behind');
      const done = JSON.parse(fs.readFileSync(path.join(models, 'crashed', 'checkpoint', 'state.json'), 'utf8')).epoch as number;
      // the run's own settings (model, size, data...) are the defaults: only where it is and how long
      const resumed = await runCli(['train', '--run', 'crashed', '--models-dir', models, '--resume', '--epochs', String(done + 1)]);
      assert.equal(resumed.status, 0, resumed.output);
      assert.match(resumed.output, new RegExp(`resumed with changed settings: epochs 1000 -> ${done + 1}`));
      const record = JSON.parse(fs.readFileSync(path.join(models, 'crashed', 'run.json'), 'utf8'));
      assert.equal(record.completed, true);
      assert.equal(record.history.length, done + 1);
      assert.ok(!fs.existsSync(path.join(models, 'crashed', FOLDER_LOCK_FILE)));
    });

    it('continues an interrupted run with `train --run NAME --resume` alone', async () => {
      await useNativeBackend();
      const controller = new AbortController();
      const first = await train(
        { model: 'bench', height: 24, width: 40, channels: 1, alphabet: '0123', length: 2, batchSize: 16, dataDir: path.join(work.dir, 'data'), modelsDir: models, run: 'short', epochs: 2, seed: 7 },
        { signal: controller.signal, callbacks: { onBatch: (p) => p.batch === 2 && controller.abort() } },
      );
      assert.equal(first.interrupted, true);
      const resumed = await runCli(['train', '--run', 'short', '--models-dir', models, '--resume']);
      assert.equal(resumed.status, 0, resumed.output);
      assert.match(resumed.output, /resuming from epoch 1, batch 2/);
      assert.doesNotMatch(resumed.output, /changed settings/);
      const record = JSON.parse(fs.readFileSync(path.join(models, 'short', 'run.json'), 'utf8'));
      assert.deepEqual([record.completed, record.history.length, record.config.seed], [true, 2, 7]);
    });

    it('refuses `train --resume` of a run that never existed', async () => {
      const { status, output } = await runCli([...tiny, '--run', 'ghost', '--resume']);
      assert.equal(status, 1);
      assert.match(output, /error: cannot resume run 'ghost': there is no folder '.*ghost'; check --run and --models-dir/);
      assert.ok(!fs.existsSync(path.join(models, 'ghost')));
    });

    describe('unwritable folders, before any training', () => {
      // Root may write anywhere: as root the command runs without the capabilities that bypass
      // file permissions (setpriv, util-linux), so a folder's mode binds it as it binds a user.
      // (Running it as another user instead needs the checkout readable by that user, which a
      // clone in a private temp folder is not.)
      const asRoot = process.getuid?.() === 0;
      const asOther: CliOptions = asRoot ? { via: ['setpriv', '--bounding-set=-dac_override,-dac_read_search'] } : {};
      const lock = (dir: string) => fs.chmodSync(dir, 0o555);

      it('names an unwritable --models-dir and the fix', async () => {
        const readOnly = path.join(work.dir, 'read-only-models');
        fs.mkdirSync(readOnly);
        lock(readOnly);
        const { status, output } = await runCli([...tiny, '--models-dir', readOnly, '--run', 'r', '--epochs', '1'], asOther);
        assert.equal(status, 1, output);
        assert.match(output, /error: cannot create the run folder '.*read-only-models\/r' \(EACCES\): '.*read-only-models' is not writable; make it writable \(chmod u\+w '.*read-only-models'\) or choose another --models-dir/);
      });

      it('names an unwritable run folder before the first epoch', async () => {
        const open = path.join(work.dir, 'open-models');
        fs.mkdirSync(path.join(open, 'r'), { recursive: true });
        fs.chmodSync(open, 0o777);
        lock(path.join(open, 'r'));
        const { status, output } = await runCli([...tiny, '--models-dir', open, '--run', 'r', '--epochs', '1'], asOther);
        assert.equal(status, 1, output);
        assert.match(output, /error: the run folder '.*open-models\/r' is not writable \(EACCES\); make it writable/);
        assert.doesNotMatch(output, /epoch 1:/);
      });
    });
  });
});
