import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { chooseSeeds, parseSeedList } from '../../src/cli/replicate';
import { tempDir, writeToyDataset } from '../helpers';

const CLI = path.join(__dirname, '../../src/cli/main.js');

describe('captcha-lab replicate (command line)', function () {
  this.timeout(120000);

  it('reads seed lists and ranges, and takes the seeds one way only', () => {
    assert.deepEqual(parseSeedList('1,2,5-8'), [1, 2, 5, 6, 7, 8]);
    assert.deepEqual(parseSeedList(' 0 '), [0]);
    assert.throws(() => parseSeedList('1,x'), /seeds must be whole numbers >= 0 separated by commas, with ranges like 5-8; got 'x'/);
    assert.throws(() => parseSeedList('8-5'), /seed range '8-5' runs backwards; write 5-8/);
    assert.deepEqual(chooseSeeds({ count: 3 }), [1, 2, 3]);
    assert.deepEqual(chooseSeeds({ count: 2, firstSeed: 10 }), [10, 11]);
    assert.deepEqual(chooseSeeds({ seeds: [4, 2] }), [4, 2]);
    assert.throws(() => chooseSeeds({}), /which seeds\? pass --seeds 1,2,3 or --count K/);
    assert.throws(() => chooseSeeds({ seeds: [1], count: 2 }), /give the seeds one way/);
  });

  it('trains the seed network under two seeds on tiny images and writes the table', async () => {
    const work = tempDir();
    try {
      const data = path.join(work.dir, 'data');
      writeToyDataset(data, 24, { width: 80, height: 80 });
      const configFile = path.join(work.dir, 'config.json');
      // the seed network at its smallest input; 18 training images in batches of 6: 3 steps
      fs.writeFileSync(configFile, JSON.stringify({
        run: 'tiny', model: 'seed', height: 80, width: 80, alphabet: '0123', length: 2, dataDir: data, validationSplit: 0.25,
        epochs: 1, batchSize: 6, init: 'mathematica', beta1: 0.93, epsilon: 1e-8, plateauProbeEvery: 1, plateauProbeImages: 6,
      }));
      const models = path.join(work.dir, 'models');
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'replicate', '--config', configFile, '--models-dir', models, '--seeds', '1,2']);
      assert.match(stdout, /# Replication `tiny`: 2 seeds/);
      assert.match(stdout, /seed \(init mathematica\) on folder .*: 18 train \/ 6 validation images; adam lr 0.001 beta1 0.93 beta2 0.999 epsilon 1e-8/);
      const table = JSON.parse(fs.readFileSync(path.join(models, 'tiny-replication.json'), 'utf8'));
      assert.deepEqual(table.rows.map((r: { run: string }) => r.run), ['tiny-seed1', 'tiny-seed2']);
      for (const row of table.rows) {
        // 3 steps decide nothing (stuck needs stuckAfterSteps = 100 dead steps, escaped a 50-step
        // running loss): neither verdict, trained the one epoch, evaluated on the 6 held-out images
        assert.equal(row.outcome, 'undecided');
        assert.equal(row.heldOut.images, 6);
      }
      assert.ok(fs.existsSync(path.join(models, 'tiny-replication.md')));
      const run = JSON.parse(fs.readFileSync(path.join(models, 'tiny-seed2', 'run.json'), 'utf8'));
      assert.equal(run.config.seed, 2);
      assert.deepEqual(run.plateau.probes.map((p: { step: number }) => p.step), [0, 1, 2, 3]);
    } finally {
      work.cleanup();
    }
  });
});
