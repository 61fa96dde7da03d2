import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { type TrainConfig } from '../../src/train';
import { planSeed, replicate, seedRunName, type SeedPlan } from '../../src/train/replication';
import { registerPlateauToyModels, tempDir, useNativeBackend, writeToyDataset } from '../helpers';

registerPlateauToyModels();

describe('replicate: one configuration under several seeds', function () {
  this.timeout(120000);
  let work: ReturnType<typeof tempDir>;
  let config: Partial<TrainConfig>;
  let modelsDir: string;

  before(async () => {
    await useNativeBackend();
    work = tempDir();
    writeToyDataset(path.join(work.dir, 'data'), 120);
    modelsDir = path.join(work.dir, 'models');
    // 108 training images in batches of 4: 27 steps an epoch, 81 in all
    config = {
      model: 'plateau-healthy-test', run: 'rep', alphabet: '0123', length: 2, dataDir: path.join(work.dir, 'data'), modelsDir,
      epochs: 3, batchSize: 4, learningRate: 0.01, plateauProbeEvery: 3, plateauProbeImages: 8, stuckAfterSteps: 9,
    };
  });
  after(() => work.cleanup());

  it('trains the first escaped seed to all epochs, stops the next at its escape, and writes the table', async () => {
    const plans: SeedPlan[] = [];
    const { table, files, interrupted } = await replicate({ config, seeds: [1, 2], callbacks: { onSeed: (_, plan) => plans.push(plan) } });
    assert.equal(interrupted, false);
    assert.deepEqual(plans.map((p) => p.action), ['train', 'train']);
    const [first, second] = table.rows;
    assert.equal(first.run, 'rep-seed1');
    assert.equal(first.outcome, 'escaped');
    assert.equal(first.completed, true);
    assert.equal(first.steps, 81);
    assert.equal(second.outcome, 'escaped');
    assert.equal(second.completed, false);
    assert.equal(second.steps, second.verdictStep, 'stopped at the escape');
    for (const row of table.rows) assert.equal(row.heldOut?.images, 12, 'evaluated on the 12 held-out images');
    assert.match(first.heldOut?.model ?? '', /^best epoch [123]$/);
    const json = JSON.parse(fs.readFileSync(files.json, 'utf8'));
    assert.deepEqual(json.rows.map((r: { seed: number }) => r.seed), [1, 2]);
    const markdown = fs.readFileSync(files.markdown, 'utf8');
    assert.match(markdown, /Escaped: 2 of 2 \(seeds 1, 2\); stuck: 0/);
    assert.match(markdown, new RegExp(`\\| 2 \\| rep-seed2 \\| escaped at step ${second.verdictStep} \\| ${second.steps} `));
    assert.equal(path.dirname(files.markdown), modelsDir);
  });

  it('skips the decided seeds when run again, without evaluating them again, and trains them on with trainEscaped', async () => {
    const plans: SeedPlan[] = [];
    const logs: string[] = [];
    const before = fs.statSync(path.join(modelsDir, 'rep-seed2', 'run.json')).mtimeMs;
    const again = await replicate({ config, seeds: [1, 2], callbacks: { onSeed: (_, plan) => plans.push(plan), onLog: (l) => logs.push(l) } });
    assert.deepEqual(plans.map((p) => p.action), ['done', 'done']);
    assert.deepEqual(logs, [], 'evaluations reused');
    assert.equal(fs.statSync(path.join(modelsDir, 'rep-seed2', 'run.json')).mtimeMs, before, 'nothing trained');
    assert.equal(again.table.rows[1].completed, false);

    const full = await replicate({ config, seeds: [1, 2], trainEscaped: true });
    assert.equal(full.table.rows[1].completed, true);
    assert.equal(full.table.rows[1].steps, 81);
    assert.equal(planSeed(path.join(modelsDir, 'rep-seed2'), false, 3).action, 'done');
  });

  it('stops a stuck seed at the verdict', async () => {
    const { table } = await replicate({ config: { ...config, model: 'plateau-dead-test', run: 'dead' }, seeds: [3] });
    const [row] = table.rows;
    assert.equal(row.outcome, 'stuck');
    assert.deepEqual([row.verdictStep, row.declaredAt, row.steps], [0, 9, 9]);
    assert.ok(row.heldOut && row.heldOut.model === 'weights at step 9', JSON.stringify(row.heldOut));
  });

  it('resumes an interrupted seed when run again, and lists the seeds not reached', async () => {
    const controller = new AbortController();
    const first = await replicate({
      config: { ...config, run: 'cut' }, seeds: [4, 5, 6], signal: controller.signal,
      callbacks: { train: (seed) => ({ onBatch: (p) => seed === 5 && p.batch === 2 && controller.abort() }) },
    });
    assert.equal(first.interrupted, true);
    assert.deepEqual(first.table.rows.map((r) => [r.seed, r.outcome]), [[4, 'escaped'], [5, 'unfinished'], [6, 'unfinished']]);
    assert.equal(first.table.rows[1].steps, 2);
    assert.equal(first.table.rows[2].steps, 0);
    assert.match(fs.readFileSync(first.files.markdown, 'utf8'), /unfinished: 2\./);
    const plans: SeedPlan[] = [];
    const second = await replicate({ config: { ...config, run: 'cut' }, seeds: [4, 5, 6], callbacks: { onSeed: (_, plan) => plans.push(plan) } });
    assert.deepEqual(plans.map((p) => p.action), ['done', 'resume', 'train']);
    assert.deepEqual(second.table.rows.map((r) => r.outcome), ['escaped', 'escaped', 'escaped']);
    assert.equal(seedRunName('cut', 5), second.table.rows[1].run);
  });

  it('refuses a second replicate of the same table while one runs, before it trains anything', async () => {
    let second: Promise<Error | null> | undefined;
    const first = await replicate({
      config: { ...config, run: 'pair' }, seeds: [7],
      callbacks: {
        onSeed: () => {
          second ??= replicate({ config: { ...config, run: 'pair' }, seeds: [8] }).then(() => null, (err: Error) => err);
        },
      },
    });
    const refused = await second;
    assert.match(
      refused?.message ?? 'not refused',
      new RegExp(`the replication table '.*pair-replication\\.md' is in use by another replicate pair \\(pid ${process.pid}\\b.*if no such process is running, delete '.*pair-replication\\.lock'`),
    );
    assert.ok(!fs.existsSync(path.join(modelsDir, seedRunName('pair', 8))), 'the second trained nothing');
    assert.deepEqual(JSON.parse(fs.readFileSync(first.files.json, 'utf8')).rows.map((r: { seed: number }) => r.seed), [7]);
    assert.ok(!fs.existsSync(path.join(modelsDir, 'pair-replication.lock')), 'the table is unlocked when the first is done');
  });

  it('refuses files at --out that are not its table, before it trains anything, and leaves them as they were', async () => {
    const out = path.join(modelsDir, 'notes');
    const cases: Array<[string, string, RegExp]> = [
      ['notes.md', '# My notes on the replication\n', /'.*notes\.md' exists and is not a replication table; the replication writes its table there: pass another --out, or move the file away first/],
      ['notes.json', '{"some": "data"}', /'.*notes\.json' exists and is not a replication table/],
      ['notes.json', '{ not json', /'.*notes\.json' exists and is not JSON/],
      ['notes.json', '{"run": "other", "rows": []}', /'.*notes\.json' exists and holds the replication of run 'other', not 'guarded'/],
    ];
    for (const [name, text, refusal] of cases) {
      const file = path.join(modelsDir, name);
      fs.writeFileSync(file, text);
      await assert.rejects(replicate({ config: { ...config, run: 'guarded' }, seeds: [1], out }), refusal);
      assert.equal(fs.readFileSync(file, 'utf8'), text);
      fs.rmSync(file);
    }
    assert.ok(!fs.existsSync(path.join(modelsDir, seedRunName('guarded', 1))), 'nothing trained');
  });

  it('refuses an empty or repeated seed list', async () => {
    await assert.rejects(replicate({ config, seeds: [] }), /replicate needs at least one seed/);
    await assert.rejects(replicate({ config, seeds: [1, 2, 1] }), /seed 1 is listed twice; list each seed once/);
  });
});
