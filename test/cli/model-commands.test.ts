import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { buildProgram } from '../../src/cli/main';
import { trainedImageKinds } from '../../src/cli/evaluate';
import { createModel, saveModel } from '../../src/models';
import { tempDir, useNativeBackend } from '../helpers';

/** Runs `captcha-lab <args>` in-process; resolves with what it printed, rejects with its error. */
async function cli(...args: string[]): Promise<string> {
  const program = buildProgram().exitOverride();
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  for (const cmd of program.commands) cmd.exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  const printed: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => void printed.push(parts.join(' '));
  try {
    await program.parseAsync(['node', 'captcha-lab', ...args]);
  } finally {
    console.log = log;
  }
  return printed.join('\n');
}

describe('evaluate, inspect, robustness, demo, models (command line)', () => {
  before(useNativeBackend);
  let root: string;
  let cleanup: () => void;
  let modelDir: string;
  let dataset: string;

  before(async () => {
    ({ dir: root, cleanup } = tempDir());
    // an untrained per-position model reading 2 characters of 80x80 images: enough to run every command
    modelDir = path.join(root, 'model');
    const model = createModel('seed', { height: 80, width: 80, numPositions: 2 });
    await saveModel(model, modelDir, { architecture: 'seed', alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', input: { height: 80, width: 80, channels: 3 }, length: 2 });
    model.dispose();
    dataset = path.join(root, 'dataset');
    fs.mkdirSync(dataset);
    fs.writeFileSync(path.join(dataset, 'labels.csv'), 'file,label\n');
  });
  after(() => cleanup());

  it('refuses counts below 1 by flag, saying they must be positive, not that the flag is missing', async () => {
    for (const [args, flag] of [
      [['evaluate', '--fresh', '0'], 'fresh'],
      [['robustness', '--fresh', '-2'], 'fresh'],
      [['inspect', '--data-dir', dataset, '--images', '0'], 'images'],
      [['demo', '--count', '0'], 'count'],
      [['demo', '--epochs', '0'], 'epochs'],
      [['evaluate', '--fresh', '3', '--length', '0'], 'length'],
    ] as const) {
      await assert.rejects(cli(...args), { message: `error: option '--${flag} <n>' argument '${args[args.length - 1]}' is invalid. ${flag} must be a positive integer, got '${args[args.length - 1]}'` });
    }
    await assert.rejects(cli('evaluate', '--fresh', '2', '--seed', '1.5'), /seed must be a whole number, got '1.5'/);
    await assert.rejects(cli('evaluate', '--fresh', 'ten'), /fresh must be a positive integer, got 'ten'/);
    await assert.rejects(cli('demo', '--count', '1'), /--count 1 is too few: training needs at least 2 images \(one held out\); pass --count 2 or more/);
    // a seed past 2^53 would be rounded to another seed
    await assert.rejects(cli('evaluate', '--fresh', '2', '--seed', '99999999999999999999'), /seed must be between -9007199254740991 and 9007199254740991, got '99999999999999999999'/);
  });

  it('refuses flags that would be ignored, and says which images to choose', async () => {
    await assert.rejects(cli('evaluate'), /nothing to evaluate on: pass --data-dir <folder> or --fresh <n>/);
    await assert.rejects(cli('evaluate', '--fresh', '2', '--data-dir', dataset), /pass either --data-dir <folder> or --fresh <n>, not both/);
    await assert.rejects(cli('evaluate', '--data-dir', dataset, '--seed', '7'), /--seed chooses the fresh CAPTCHAs; add --fresh <n>, or drop --seed/);
    await assert.rejects(cli('evaluate', '--data-dir', dataset, '--captcha-version', '0.7.1'), /--captcha-version chooses the fresh CAPTCHAs/);
    await assert.rejects(cli('evaluate', '--fresh', '2', '--split', 'all'), /--split chooses images of --data-dir; drop it with --fresh/);
  });

  it('names a missing, file or unlabelled --data-dir, and one that lists no images', async () => {
    const missing = path.join(root, 'missing');
    await assert.rejects(cli('evaluate', '--model-dir', modelDir, '--data-dir', missing), { message: `--data-dir '${missing}' does not exist; pass a dataset folder (labels.txt, made by \`captcha-lab generate\`) or an image folder with labels.csv` });
    const file = path.join(dataset, 'labels.csv');
    await assert.rejects(cli('inspect', '--model-dir', modelDir, '--data-dir', file), /--data-dir '.*labels.csv' is a file, not a folder/);
    await assert.rejects(cli('inspect', '--data-dir', modelDir), /has no labels.txt or labels.csv \(it is a model folder: give it as --model-dir\)/);
    await assert.rejects(cli('evaluate', '--model-dir', modelDir, '--data-dir', dataset), /--data-dir '.*dataset' lists no images in its labels file/);
    await assert.rejects(cli('inspect', '--model-dir', modelDir, '--data-dir', dataset), /--data-dir '.*dataset' lists no images in its labels file/);
    const noImages = path.join(root, 'no-images');
    fs.mkdirSync(noImages);
    fs.writeFileSync(path.join(noImages, 'labels.txt'), 'AB\n');
    await assert.rejects(cli('evaluate', '--data-dir', noImages), /has labels.txt but no images 0.png, 1.png, ... \(or .jpg\): the dataset is incomplete; make it again with `captcha-lab generate --out /);
  });

  it('says the default model folder is relative to the current folder when it is not there', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      await assert.rejects(cli('evaluate', '--fresh', '2'), /no model in 'models\/pretrained' \(the default, relative to the current folder .*\): run captcha-lab from the repository's folder, or pass --model-dir/);
    } finally {
      process.chdir(cwd);
    }
  });

  it('names a --model-dir that is missing, a file or a dataset, before any work', async () => {
    await assert.rejects(cli('evaluate', '--fresh', '2', '--model-dir', path.join(root, 'none')), /no model in '.*none': the folder does not exist/);
    await assert.rejects(cli('robustness', '--fresh', '2', '--model-dir', path.join(modelDir, 'weights.bin')), /it is a file, not a folder; pass its folder/);
    await assert.rejects(cli('evaluate', '--fresh', '2', '--model-dir', dataset), /it is an image folder \(labels.csv\), not a model/);
    // demo checks a model asked for by name before minutes of generating and training
    await assert.rejects(cli('demo', '--model', 'sede-bn', '--data-dir', path.join(root, 'never-written')), /unknown model 'sede-bn'; registered models: .*seed-bn/);
    assert.ok(!fs.existsSync(path.join(root, 'never-written')), 'nothing generated for an unknown network');
    await assert.rejects(cli('demo', '--model-dir', path.join(root, 'none'), '--data-dir', path.join(root, 'never-written')), /no model in '.*none': the folder does not exist/);
    assert.ok(!fs.existsSync(path.join(root, 'never-written')));
  });

  it('demo runs the main job end to end, small: generates, trains, evaluates, then reads fresh CAPTCHAs of every trained kind with the shipped model; run again, it replaces its own run', async function () {
    this.timeout(240000);
    const shipped = path.join(__dirname, '..', '..', '..', 'models', 'pretrained');
    const work = path.join(root, 'demo-cwd');
    fs.mkdirSync(work);
    const cwd = process.cwd();
    process.chdir(work); // the demo writes its run to models/demo of the current folder
    let printed: string;
    let again: string;
    let first: string;
    try {
      printed = await cli('demo', '--count', '64', '--epochs', '1', '--data-dir', path.join(work, 'data'), '--model-dir', shipped);
      first = JSON.parse(fs.readFileSync(path.join(work, 'models', 'demo', 'run.json'), 'utf8')).startedAt;
      // run again, as users do: it reuses its dataset and replaces its own run (models/demo)
      again = await cli('demo', '--count', '64', '--epochs', '1', '--data-dir', path.join(work, 'data'), '--model-dir', shipped);
    } finally {
      process.chdir(cwd);
    }
    assert.match(again, /3\. training/);
    assert.match(again, /--overwrite: moved the previous run's .* to .*\.replaced/);
    assert.notEqual(JSON.parse(fs.readFileSync(path.join(work, 'models', 'demo', 'run.json'), 'utf8')).startedAt, first, 'the second run replaced the first');
    assert.ok(!fs.existsSync(path.join(work, 'models', 'demo', '.replaced')));
    for (const stage of ['1. backend', '2. generating 64 CAPTCHAs', '3. training', '4. evaluating on the held-out 10%', '5. reading fresh CAPTCHAs']) assert.match(printed, new RegExp(stage.replace('.', '\\.')));
    assert.equal(fs.readFileSync(path.join(work, 'data', 'labels.txt'), 'utf8').trim().split('\n').length, 64);
    assert.ok(fs.existsSync(path.join(work, 'models', 'demo', 'model.json')), 'the trained model is saved in models/demo');
    // one line per fresh CAPTCHA: the shipped model's 4 versions x 3 common sizes, one each
    const readings = printed.split('\n').filter((line) => / true [0-9A-Z]{4} {2}predicted /.test(line));
    assert.equal(readings.length, 12);
    for (const version of ['0.7.0', '0.7.1', '0.2.2', '0.2.2-pillow4']) {
      for (const size of ['160x60', '170x80', '140x80']) assert.ok(readings.some((line) => line.includes(`v${version} ${size} `)), `v${version} ${size}`);
    }
    // The shipped model reads 97-99% of every kind, and a broken loading or decoding would miss
    // most. The demo draws new texts on every run (its seed is the time), so allow a few misses:
    // more than 4 of 12 by chance is about 1 in 100,000.
    const misread = readings.filter((line) => line.endsWith('<- misread')).length;
    assert.ok(misread <= 4, `${misread} of ${readings.length} misread`);
  });

  it('evaluate names an --out folder it cannot create, at once (under /proc it used to hang)', async function () {
    if (process.platform !== 'linux') this.skip(); // /proc is Linux's
    await assert.rejects(cli('evaluate', '--fresh', '2', '--model-dir', modelDir, '--out', '/proc/captcha-lab-x/r.json'), /cannot create the folder of the report .*choose another --out/);
  });

  it('models: a model folder given for an architecture name gets the architecture to ask for', async () => {
    await assert.rejects(cli('models', modelDir), /is a saved model folder, not an architecture name; its architecture is seed: `captcha-lab models seed`/);
    await assert.rejects(cli('models', dataset), /is a folder, not an architecture name; pick one of seed, /);
  });

  it('evaluate writes its report under a name saying what was evaluated and never over another evaluation', async () => {
    const name = path.join(modelDir, 'evaluation-fresh-3-seed-424242-v0.7.0-2ch.json');
    const printed = await cli('evaluate', '--model-dir', modelDir, '--fresh', '3');
    assert.match(printed, /report written to .*evaluation-fresh-3-seed-424242-v0.7.0-2ch.json/);
    const first = JSON.parse(fs.readFileSync(name, 'utf8'));
    assert.equal(first.count, 3);
    assert.equal(first.source, '3 fresh 2-character CAPTCHAs (seed 424242, v0.7.0)');
    await cli('evaluate', '--model-dir', modelDir, '--fresh', '3'); // the same evaluation replaces its report

    // a shipped model's committed report, e.g. evaluation.json of 5,120 held-out images, stays as it was
    const committed = path.join(modelDir, 'evaluation.json');
    const report = JSON.stringify({ model: modelDir, source: 'data/x, held-out test split (5120 images)', decoding: 'one character per head', count: 5120 });
    fs.writeFileSync(committed, report);
    await cli('evaluate', '--model-dir', modelDir, '--fresh', '4', '--seed', '9');
    assert.ok(fs.existsSync(path.join(modelDir, 'evaluation-fresh-4-seed-9-v0.7.0-2ch.json')));
    await assert.rejects(cli('evaluate', '--model-dir', modelDir, '--fresh', '2', '--out', committed), /holds the report of another evaluation \(data\/x, held-out test split \(5120 images\);/);
    await assert.rejects(cli('evaluate', '--model-dir', modelDir, '--fresh', '2', '--out', path.join(committed, 'r.json')), /cannot be written: '.*evaluation.json' is a file, not a folder; pass another --out/);
    assert.equal(fs.readFileSync(committed, 'utf8'), report);

    // --out: a folder (existing, or named with a trailing /) gets the default name inside it
    await cli('evaluate', '--model-dir', modelDir, '--fresh', '3', '--out', path.join(root, 'reports') + path.sep);
    assert.deepEqual(fs.readdirSync(path.join(root, 'reports')), ['evaluation-fresh-3-seed-424242-v0.7.0-2ch.json']);
  });

  it('evaluate --size draws fresh CAPTCHAs at another size and names it in the report; it needs --fresh', async () => {
    await cli('evaluate', '--model-dir', modelDir, '--fresh', '3', '--size', '140x80', '--out', path.join(root, 'sized') + path.sep);
    const [name] = fs.readdirSync(path.join(root, 'sized'));
    assert.equal(name, 'evaluation-fresh-3-seed-424242-v0.7.0-2ch-140x80.json');
    assert.match(JSON.parse(fs.readFileSync(path.join(root, 'sized', name), 'utf8')).source, /\(seed 424242, v0\.7\.0, drawn at 140x80\)$/);
    await assert.rejects(cli('evaluate', '--data-dir', dataset, '--size', '140x80'), /--size chooses the fresh CAPTCHAs; add --fresh <n>, or drop --size/);
    await assert.rejects(cli('evaluate', '--fresh', '2', '--size', '140'), /image size must be WIDTHxHEIGHT in pixels, 8 to 4096 each \(e\.g\. 170x80\), got '140'/);
  });

  it('matrix scores every version x size cell, saves after each, and continues a partial matrix', async () => {
    const out = path.join(root, 'matrix', 'm.json');
    const printed = await cli('matrix', '--model-dir', modelDir, '--count', '3', '--versions', '0.7.0,0.2.2', '--sizes', '160x60,140x80', '--out', out);
    const table = printed.split('\n').filter((line) => line.startsWith('|')).join('\n'); // without the progress lines
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.deepEqual(report.cells.map((c: { version: string; width: number; height: number }) => `${c.version}@${c.width}x${c.height}`), ['0.7.0@160x60', '0.7.0@140x80', '0.2.2@160x60', '0.2.2@140x80']);
    for (const c of report.cells) assert.ok(c.count === 3 && c.errors === Math.round(3 * (1 - c.wholeAccuracy)) && c.zeroOErrors <= c.errors, JSON.stringify(c));
    assert.match(table, /^\| version \| 160x60 \| 140x80 \|\n\|---\|---\|---\|\n\| 0\.7\.0 \| \d+\.\d\d% \(\d; 0\/O \d\) \|/);
    assert.equal(fs.readFileSync(path.join(root, 'matrix', 'm.md'), 'utf8'), `${table}\n`);
    // a cell already scored is kept as it is, not scored again
    report.cells[0].seconds = 12345;
    fs.writeFileSync(out, JSON.stringify(report));
    await cli('matrix', '--model-dir', modelDir, '--count', '3', '--versions', '0.7.0,0.2.2', '--sizes', '160x60,140x80,150x70', '--out', out);
    const more = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(more.cells.length, 6);
    assert.equal(more.cells[0].seconds, 12345);
    // a report of the folder's earlier weights (a retrained model) is scored again, not reused
    fs.writeFileSync(out, JSON.stringify({ ...more, weights: 'another' }));
    await cli('matrix', '--model-dir', modelDir, '--count', '3', '--versions', '0.7.0', '--sizes', '160x60', '--out', out);
    const again = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(again.cells.length, 1);
    assert.match(again.weights, /^[0-9a-f]{16}$/);
    // another model's matrix is never overwritten
    fs.writeFileSync(out, JSON.stringify({ ...more, model: 'models/other' }));
    await assert.rejects(cli('matrix', '--model-dir', modelDir, '--count', '3', '--out', out), /holds the matrix of another model or decoding \(models\/other; .*\); pass --out <file> to keep both, or delete it first/);
    await assert.rejects(cli('matrix', '--model-dir', modelDir, '--versions', '0.9'), /version '0\.9' is not one of 0\.7\.0/);
    // nor a Markdown file beside the report that is not a matrix table (a hand-written page)
    const page = path.join(root, 'matrix', 'page.md');
    fs.writeFileSync(page, '# My notes\n');
    await assert.rejects(cli('matrix', '--model-dir', modelDir, '--count', '3', '--out', path.join(root, 'matrix', 'page.json')), /'.*page\.md' exists and is not a matrix table, which the matrix writes beside its report; pass another --out, or move the file away first/);
    assert.equal(fs.readFileSync(page, 'utf8'), '# My notes\n');
    assert.ok(!fs.existsSync(path.join(root, 'matrix', 'page.json')));
  });

  it('knows the kinds of CAPTCHA a model was trained on: each version of its mix at each common size inside it, else its one kind', () => {
    assert.deepEqual(trainedImageKinds(modelDir, { width: 80, height: 80 }), [{ version: '0.7.0', width: 80, height: 80 }]);
    const mixed = path.join(root, 'mixed-run');
    fs.mkdirSync(mixed);
    fs.writeFileSync(path.join(mixed, 'run.json'), JSON.stringify({ config: { captchaVersion: '0.7.0', mix: { versions: ['0.7.1', '0.2.2'], width: [150, 170], height: [60, 80] } } }));
    assert.deepEqual(trainedImageKinds(mixed, { width: 160, height: 60 }), [
      { version: '0.7.1', width: 160, height: 60 }, { version: '0.7.1', width: 170, height: 80 },
      { version: '0.2.2', width: 160, height: 60 }, { version: '0.2.2', width: 170, height: 80 },
    ]);
  });
});
