import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn } from 'child_process';
import { Command } from 'commander';
import { createRng, deriveSeed, encode, ImageCaptcha, randomText } from '../../src/captcha';
import { decodeImageFile, MAX_DATASET_IMAGES, writeDataset, type DatasetManifest } from '../../src/data';
import { FOLDER_LOCK_FILE } from '../../src/files';
import { register } from '../../src/cli/generate';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'captcha-ds-'));
const files = (dir: string): string[] => fs.readdirSync(dir).sort();
const read = (dir: string, f: string): Buffer => fs.readFileSync(path.join(dir, f));

describe('writeDataset', () => {
  let root: string;
  beforeEach(() => {
    root = tmp();
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('writes 0.jpg ... N-1.jpg, labels.txt (line i = text of image i) and manifest.json', async () => {
    const out = path.join(root, 'ds');
    const progress: number[] = [];
    const r = await writeDataset({ out, count: 5, seed: 3, workers: 0, onProgress: (d, t) => progress.push(d / t) });
    assert.deepStrictEqual(files(out), ['0.jpg', '1.jpg', '2.jpg', '3.jpg', '4.jpg', 'labels.txt', 'manifest.json']);
    const labels = read(out, 'labels.txt').toString().split('\n');
    assert.strictEqual(labels.length, 6);
    assert.strictEqual(labels[5], '');
    // image i is text i drawn from its own seed, then its pixels from the same generator
    const rng = createRng(deriveSeed(3, 2));
    const text = randomText(rng);
    assert.strictEqual(labels[2], text);
    const expected = encode(new ImageCaptcha().generateImage(text, rng), 'jpg');
    assert.ok(read(out, '2.jpg').equals(expected));
    const m = JSON.parse(read(out, 'manifest.json').toString()) as DatasetManifest;
    assert.deepStrictEqual(
      [m.generator.name, m.generator.lepture, m.seed, m.count, m.format, m.complete],
      ['captcha-lab ImageCaptcha', '0.7.0', 3, 5, 'jpg', true],
    );
    assert.deepStrictEqual(m.captcha.fontSizes, [42, 50, 56]);
    assert.deepStrictEqual(m.text, { length: [4, 4], alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', unique: true });
    assert.strictEqual(m.fontSha256.length, 1);
    assert.deepStrictEqual([r.generated, r.skipped], [5, 0]);
    assert.strictEqual(progress[progress.length - 1], 1);
  });

  it('writes PNG and follows the captcha and text options', async () => {
    const out = path.join(root, 'png');
    await writeDataset({ out, count: 3, workers: 0, format: 'png', captcha: { width: 120, height: 50 }, text: { length: [5, 6], alphabet: 'A-F', unique: false } });
    assert.ok(files(out).includes('2.png'));
    const img = await decodeImageFile(path.join(out, '0.png'));
    assert.deepStrictEqual([img.width, img.height], [120, 50]);
    for (const l of read(out, 'labels.txt').toString().trim().split('\n')) assert.match(l, /^[A-F]{5,6}$/);
  });

  it('gives the same bytes with worker threads as without', async () => {
    const a = path.join(root, 'a');
    const b = path.join(root, 'b');
    await writeDataset({ out: a, count: 70, seed: 'w', workers: 0 });
    await writeDataset({ out: b, count: 70, seed: 'w', workers: 2 });
    for (const f of files(a)) assert.ok(read(a, f).equals(read(b, f)), f);
  });

  it('completes a partial dataset and keeps the valid images', async () => {
    const out = path.join(root, 'ds');
    await writeDataset({ out, count: 6, seed: 1, workers: 0 });
    const before = read(out, '4.jpg');
    fs.rmSync(path.join(out, '1.jpg'));
    fs.writeFileSync(path.join(out, '3.jpg'), 'half a file');
    fs.writeFileSync(path.join(out, '.5.jpg.123.abc.tmp'), 'leftover');
    const mtime = fs.statSync(path.join(out, '4.jpg')).mtimeMs;
    const r = await writeDataset({ out, count: 6, seed: 1, workers: 0 });
    assert.deepStrictEqual([r.generated, r.skipped], [2, 4]);
    assert.ok(read(out, '4.jpg').equals(before));
    assert.strictEqual(fs.statSync(path.join(out, '4.jpg')).mtimeMs, mtime);
    assert.strictEqual(read(out, '3.jpg')[0], 0xff);
    assert.ok(!files(out).some((f) => f.endsWith('.tmp')));
  });

  it('regenerates an image damaged in the middle, which still starts and ends like a JPEG', async () => {
    const out = path.join(root, 'ds');
    await writeDataset({ out, count: 3, seed: 1, workers: 0 });
    const intact = read(out, '1.jpg');
    const damaged = Buffer.from(intact);
    for (let k = 0; k < 64; k++) damaged[(damaged.length >> 1) + k] = (k * 73) & 0xff;
    assert.deepStrictEqual([damaged[0], damaged[1], damaged.at(-2), damaged.at(-1)], [0xff, 0xd8, 0xff, 0xd9]);
    fs.writeFileSync(path.join(out, '1.jpg'), damaged);
    const r = await writeDataset({ out, count: 3, seed: 1, workers: 0 });
    assert.deepStrictEqual([r.generated, r.skipped], [1, 2]);
    assert.ok(read(out, '1.jpg').equals(intact));
  });

  it('refuses a folder that holds a different dataset', async () => {
    const out = path.join(root, 'ds');
    await writeDataset({ out, count: 2, seed: 1, workers: 0 });
    await assert.rejects(writeDataset({ out, count: 2, seed: 2, workers: 0 }), {
      message: `'${out}' already holds a different dataset (manifest differs in seed: 1 there, 2 now); use the same options to complete it, or choose another folder`,
    });
    await assert.rejects(writeDataset({ out, count: 2, seed: 1, workers: 0, captcha: { version: '0.7.1' } }), /generator\.lepture: "0\.7\.0" there, "0\.7\.1" now; captcha\.version/);
  });

  it('refuses a non-empty folder without a manifest', async () => {
    fs.writeFileSync(path.join(root, 'notes.txt'), 'mine');
    await assert.rejects(writeDataset({ out: root, count: 2, workers: 0 }), {
      message: `'${root}' is not empty (notes.txt) and has no manifest.json; choose a new or empty folder`,
    });
    assert.deepStrictEqual(files(root), ['notes.txt']);
  });

  it('refuses an unwritable folder before writing anything', async () => {
    const file = path.join(root, 'plain-file');
    fs.writeFileSync(file, '');
    const out = path.join(file, 'ds');
    await assert.rejects(writeDataset({ out, count: 2, workers: 0 }), {
      message: `cannot write to dataset folder '${out}' (ENOTDIR); choose a folder you can write to`,
    });
    await assert.rejects(writeDataset({ out: file, count: 2, workers: 0 }), {
      message: `'${file}' exists and is not a folder; pass a folder path for the dataset`,
    });
  });

  it('fails at once on a folder under /proc, where creating folders is refused', async function () {
    if (!fs.existsSync('/proc/self')) this.skip();
    // Node's recursive mkdir loops forever there (ENOENT for a parent that exists).
    await assert.rejects(writeDataset({ out: '/proc/captcha-lab/ds', count: 2, workers: 0 }), {
      message: "cannot write to dataset folder '/proc/captcha-lab/ds' (ENOENT at '/proc/captcha-lab'); choose a folder you can write to",
    });
  });

  it('refuses more images than one folder holds, before creating it', async () => {
    const out = path.join(root, 'never');
    await assert.rejects(writeDataset({ out, count: MAX_DATASET_IMAGES + 1, workers: 0 }), (err: Error) => {
      assert.match(err.message, new RegExp(`^count ${MAX_DATASET_IMAGES + 1} is more than one dataset folder holds \\(at most 10,000,000 images`));
      assert.match(err.message, /write several folders with different seeds, or train on fresh CAPTCHAs with `captcha-lab train --source stream`/);
      return true;
    });
    assert.ok(!fs.existsSync(out));
  });

  it('refuses a character the font has but draws blank', async () => {
    const out = path.join(root, 'never');
    const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
    await assert.rejects(writeDataset({ out, count: 2, workers: 0, captcha: { fonts: [font] }, text: { alphabet: 'AB\u2800', length: 2 } }), {
      message: `font '${font}' draws nothing for '\u2800' (U+2800) at 42 px; remove it from the alphabet or pass a font that draws it (--font)`,
    });
    assert.ok(!fs.existsSync(out));
  });

  for (const count of [0, -3, 2.5, Number.NaN]) {
    it(`refuses count ${count} and creates nothing`, async () => {
      const out = path.join(root, 'never');
      await assert.rejects(writeDataset({ out, count, workers: 0 }), {
        message: `count must be a positive integer, got ${count}; pass how many images to write, e.g. 1000`,
      });
      assert.ok(!fs.existsSync(out));
    });
  }

  it('refuses bad generator options before creating the folder', async () => {
    const out = path.join(root, 'never');
    await assert.rejects(writeDataset({ out, count: 2, captcha: { fontSizes: [-1] } }), /font size -1 is not a positive number/);
    await assert.rejects(writeDataset({ out, count: 2, format: 'bmp' as 'png' }), { message: `image format must be 'png' or 'jpg', got "bmp"` });
    assert.ok(!fs.existsSync(out));
  });
});

describe('two generate processes on one folder', () => {
  const cli = path.join(__dirname, '../../src/cli/main.js');
  const run = (out: string, seed: string, count: number) => {
    const child = spawn(process.execPath, [cli, 'generate', '--out', out, '--count', String(count), '--seed', seed, '--workers', '0']);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exit = new Promise<{ code: number | null; output: string }>((resolve) => child.on('close', (code) => resolve({ code, output })));
    return { child, exit };
  };
  /** Waits until `file` exists, failing if `writer` ends first. */
  const appears = async (file: string, writer: ReturnType<typeof run>) => {
    let ended = false;
    void writer.exit.then(() => (ended = true));
    while (!fs.existsSync(file)) {
      assert.ok(!ended, `the first process ended before writing ${path.basename(file)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  it('lets the first write the folder and stops the second at once, naming the first', async () => {
    const root = tmp();
    // far more images than it can write while the second runs: it still holds the lock, however slow the machine
    const count = 200000;
    const first = run(path.join(root, 'x'), '7', count);
    try {
      const out = path.join(root, 'x');
      await appears(path.join(out, FOLDER_LOCK_FILE), first);
      const second = await run(out, '8', count).exit;
      assert.strictEqual(second.code, 1);
      assert.match(second.output, new RegExp(`error: '${out}' is in use by another generate \\(pid ${first.child.pid} on .*--seed 7.*\\); wait for it to finish or stop it \\(kill ${first.child.pid}\\)`));
      await appears(path.join(out, '0.jpg'), first); // written atomically, like labels.txt before it
      first.child.kill('SIGKILL');
      await first.exit;
      // Every label and image is the first run's.
      const m = JSON.parse(read(out, 'manifest.json').toString()) as DatasetManifest;
      assert.deepStrictEqual([m.seed, m.count, m.complete], [7, count, false]);
      const labels = read(out, 'labels.txt').toString().trim().split('\n');
      assert.strictEqual(labels.length, count);
      for (const i of [0, count - 1]) assert.strictEqual(labels[i], randomText(createRng(deriveSeed(7, i))), `label ${i}`);
      const rng = createRng(deriveSeed(7, 0));
      const text = randomText(rng);
      assert.ok(read(out, '0.jpg').equals(encode(new ImageCaptcha().generateImage(text, rng), 'jpg')), '0.jpg');
    } finally {
      first.child.kill('SIGKILL');
      await first.exit;
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('generate command', () => {
  /** Runs `generate` with `args` into a fresh folder, quietly; returns its manifest and the folder. */
  async function generate(root: string, args: string[]): Promise<{ out: string; m: DatasetManifest }> {
    const log = console.log;
    const write = process.stderr.write;
    console.log = () => undefined;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      const program = new Command().exitOverride();
      register(program);
      const out = path.join(root, 'cli');
      await program.parseAsync(['generate', '--out', out, '--workers', '0', ...args], { from: 'user' });
      return { out, m: JSON.parse(read(out, 'manifest.json').toString()) as DatasetManifest };
    } finally {
      console.log = log;
      process.stderr.write = write;
    }
  }

  it('writes a dataset from its flags', async () => {
    const root = tmp();
    try {
      const { out, m } = await generate(root, [
        ...['--count', '3', '--seed', 'abc', '--format', 'png', '--width', '100', '--length', '3-5', '--alphabet', '0-9'],
        ...['--allow-repeats', '--captcha-version', '0.7.1', '--font-sizes', '30,36'],
      ]);
      assert.deepStrictEqual(
        [m.seed, m.format, m.captcha.width, m.captcha.version, m.captcha.fontSizes, m.text.length, m.text.unique],
        ['abc', 'png', 100, '0.7.1', [30, 36], [3, 5], false],
      );
      assert.strictEqual(read(out, 'labels.txt').toString().trim().split('\n').length, 3);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("takes 0.2.2's own font sizes and no spaces, and writes long texts at the requested width", async () => {
    const root = tmp();
    try {
      const { out, m } = await generate(root, ['--count', '2', '--format', 'png', '--length', '6', '--captcha-version', '0.2.2-pillow4']);
      assert.deepStrictEqual([m.captcha.version, m.captcha.fontSizes, m.captcha.wordSpaceProbability], ['0.2.2-pillow4', [46, 58, 68], 0]);
      // six 0.2.2 glyphs are at least 168 px wide: without the resize the files would be wider than 160
      for (const f of ['0.png', '1.png']) {
        const img = await decodeImageFile(path.join(out, f));
        assert.deepStrictEqual([img.width, img.height], [160, 60], f);
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('rejects a count that is not a positive integer', async () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    register(program);
    await assert.rejects(program.parseAsync(['generate', '--out', 'x', '--count', '1e3'], { from: 'user' }), {
      message: "error: option '--count <n>' argument '1e3' is invalid. count must be a positive integer, got '1e3'",
    });
  });

  it('rejects an image side too small to hold a character, or too large to decode', async () => {
    for (const [flag, value] of [['--width', '5'], ['--height', '5000'], ['--width', '1e2']]) {
      const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
      register(program);
      await assert.rejects(program.parseAsync(['generate', '--out', 'x', flag, value], { from: 'user' }), {
        message: `error: option '${flag} <px>' argument '${value}' is invalid. ${flag.slice(2)} must be whole pixels from 8 to 4096, got '${value}'`,
      });
    }
  });
});
