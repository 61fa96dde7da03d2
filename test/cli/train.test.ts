import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { configFromFlags, readConfigFile } from '../../src/cli/train';
import { buildProgram } from '../../src/cli/main';
import { tempDir } from '../helpers';

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
    await program.parseAsync(['node', 'captcha-lab', 'train', '--run', 'r', '--epochs', '5', '--batch-size', '16', '--lr', '0.002', '--schedule', 'cosine', '--source', 'stream', '--min-length', '3']);
    assert.deepEqual(configFromFlags(cmd.opts()), { run: 'r', epochs: 5, batchSize: 16, learningRate: 0.002, schedule: 'cosine', source: 'stream', minLength: 3 });
  });

  it('refuses a missing or malformed config file by name', () => {
    const { dir, cleanup } = tempDir();
    try {
      assert.throws(() => readConfigFile(path.join(dir, 'none.json')), /cannot read config file '.*none.json'; check the path/);
      fs.writeFileSync(path.join(dir, 'bad.json'), '{ epochs: 3 ');
      assert.throws(() => readConfigFile(path.join(dir, 'bad.json')), /config file '.*bad.json' is not valid JSON/);
    } finally {
      cleanup();
    }
  });
});
