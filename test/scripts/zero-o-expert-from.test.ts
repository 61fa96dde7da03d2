import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { ZERO_O_CROP } from '../../src/eval';

// Built next to this test: dist/test/scripts -> dist/scripts.
const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'zero-o-reader.js');
/** Windows per crop part in these runs (the script reads ZERO_O_PART), so a fake validation folder stays small. */
const PART = 64;

/** Runs `zero-o-reader.js <args>`; resolves to its exit code, stdout and stderr. */
async function zeroOReader(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], { env: { ...process.env, ZERO_O_PART: String(PART) } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Runs `zero-o-reader.js expert` with `args`. */
const expert = (args: string[]) => zeroOReader(['expert', ...args]);

/** Two blank crop parts, as `crops` writes them: what `expert` watches (the last part). */
function writeValidation(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['part-0000', 'part-0001']) {
    fs.writeFileSync(path.join(dir, `${name}.bin`), new Uint8Array(PART * ZERO_O_CROP.width * ZERO_O_CROP.height));
    const labels = Array.from({ length: PART }, (_, i) => i % 2);
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({ labels, crnn: labels, logOdds: labels.map(() => 0), versions: labels.map(() => '0.7.0') }));
  }
}

/** Every file under `dir` with its contents: what a refused run must leave as it was. */
function snapshot(dir: string): Record<string, string> {
  const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile());
  return Object.fromEntries(files.sort().map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
}

describe('zero-o-reader expert --from (going on from a trained expert)', function () {
  this.timeout(120000);
  let dir: string;
  const run = { steps: 4000, jitter: 2, step: 4000, seconds: 3985, history: [] };
  const writeRun = (name: string, value: object) => {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    fs.writeFileSync(path.join(dir, name, 'run.json'), JSON.stringify(value));
  };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'expert-from-'));
    writeRun('done', run);
    writeRun('unfinished', { ...run, step: 2750 });
    writeRun('from-scratch', { ...run, steps: 8000, step: 4250 });
    writeRun('from-elsewhere', { ...run, steps: 8000, step: 4250, from: { dir: 'models/elsewhere' } });
    fs.mkdirSync(path.join(dir, 'empty'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Each is refused before the validation crops are read: --validation names a folder that does not exist.
  const refusals: Array<[string, string[], RegExp]> = [
    ['a folder that holds no expert', ['--steps', '8000', '--from', 'empty', '--out', 'out'], /holds no expert's run\.json/],
    ['an expert that has not finished its own steps', ['--steps', '8000', '--from', 'unfinished', '--out', 'out'], /stopped at step 2750 of 4000; finish it first/],
    ['another --jitter than it was trained with', ['--steps', '8000', '--jitter', '1', '--from', 'done', '--out', 'out'], /trained with --jitter 2; go on with the same/],
    ['no more steps in all than it has trained', ['--steps', '4000', '--from', 'done', '--out', 'out'], /--steps is the total: 4000 must be more than the 4000 steps .* \(e\.g\. --steps 8000\)/],
    ['its own folder as --out', ['--steps', '8000', '--from', 'done', '--out', 'done/.'], /--from and --out are both .*; give another --out/],
    ['resuming, with --from, a run trained from scratch', ['--steps', '8000', '--from', 'done', '--out', 'from-scratch'], /holds an expert that was trained from scratch, not from .*done; resume it without --from/],
    ['resuming, with --from, a run that went on from another expert', ['--steps', '8000', '--from', 'done', '--out', 'from-elsewhere'], /holds an expert that went on from models\/elsewhere, not from .*done/],
  ];
  for (const [what, args, message] of refusals) {
    it(`refuses ${what}, before reading anything else, and writes nothing`, async () => {
      const inDir = args.map((a, i) => (['--from', '--out'].includes(args[i - 1]) ? path.join(dir, a) : a));
      const before = snapshot(dir);
      const { code, stderr } = await expert([...inDir, '--validation', path.join(dir, 'no-such-crops')]);
      assert.equal(code, 1);
      assert.match(stderr, message);
      assert.deepEqual(snapshot(dir), before);
    });
  }

  it('goes on from a trained expert: its history continues, the expert it came from stays as it was', async () => {
    const validation = path.join(dir, 'crops');
    writeValidation(validation);
    const [first, second] = [path.join(dir, 'first'), path.join(dir, 'second')];
    assert.equal((await expert(['--steps', '4', '--validation', validation, '--out', first])).code, 0);
    const firstRun = fs.readFileSync(path.join(first, 'run.json'), 'utf8');
    const went = await expert(['--steps', '8', '--from', first, '--validation', validation, '--out', second]);
    assert.equal(went.code, 0, went.stderr);
    assert.match(went.stdout, /going on from .*first at step 4/);
    // The expert it went on from is untouched, and recorded with its folder but without its history.
    assert.equal(fs.readFileSync(path.join(first, 'run.json'), 'utf8'), firstRun);
    const secondRun = JSON.parse(fs.readFileSync(path.join(second, 'run.json'), 'utf8'));
    assert.deepEqual([secondRun.step, secondRun.windows], [8, 8 * 64]);
    assert.deepEqual(secondRun.history.map((h: { step: number }) => h.step), [4, 8]);
    const { history: _history, ...rest } = JSON.parse(firstRun);
    assert.deepEqual(secondRun.from, { dir: first, ...rest });
    // Done: running it again changes nothing.
    assert.match((await expert(['--steps', '8', '--from', first, '--validation', validation, '--out', second])).stdout, /is trained \(8 steps\); nothing to do/);
  });
});

describe('zero-o-reader expert, trained in parts (--until, then a resume)', function () {
  this.timeout(240000);
  let dir: string;
  let validation: string;
  /** One unbroken 8-step run, which each run in parts must end on. */
  let whole: string;
  const weightsOf = (folder: string) => {
    const bytes = fs.readFileSync(path.join(folder, 'weights.bin'));
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  };
  const largestDifference = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'expert-parts-'));
    validation = path.join(dir, 'crops');
    writeValidation(validation);
  });
  before(async () => {
    whole = path.join(dir, 'whole');
    assert.equal((await expert(['--steps', '8', '--validation', validation, '--out', whole])).code, 0);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses an --until outside 1..--steps, before reading anything else', async () => {
    for (const until of ['0', '9', '4.5']) {
      const { code, stderr } = await expert(['--steps', '8', '--until', until, '--validation', path.join(dir, 'no-such-crops'), '--out', path.join(dir, 'bad')]);
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`--until must be a whole step from 1 to --steps \\(8\\), got ${until.replace('.', '\\.')}`));
      assert.equal(fs.existsSync(path.join(dir, 'bad')), false);
    }
  });

  it("stops at --until with a checkpoint, and a resume goes on with Adam's state to the weights of one whole run", async () => {
    const [parts, fresh] = ['parts', 'fresh-adam'].map((n) => path.join(dir, n));
    const first = await expert(['--steps', '8', '--until', '4', '--validation', validation, '--out', parts]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /stopped at --until 4/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(parts, 'run.json'), 'utf8')).step, 4);
    assert.equal(JSON.parse(fs.readFileSync(path.join(parts, 'optimizer.json'), 'utf8')).learningRate, 1e-3);
    // The control: the same checkpoint without Adam's state (as written before it was kept).
    fs.cpSync(parts, fresh, { recursive: true });
    ['optimizer.bin', 'optimizer.json'].forEach((f) => fs.rmSync(path.join(fresh, f)));
    // A damaged state is refused with the fix, and the checkpoint is left as it was.
    const damaged = path.join(dir, 'damaged');
    fs.cpSync(parts, damaged, { recursive: true });
    fs.writeFileSync(path.join(damaged, 'optimizer.json'), '{"learningRate": 0.001, "specs": [');
    const before = snapshot(damaged);
    const refused = await expert(['--steps', '8', '--validation', validation, '--out', damaged]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Adam state \(optimizer\.json, optimizer\.bin\) is unreadable .*; delete those two files to resume with a fresh Adam/);
    assert.deepEqual(snapshot(damaged), before);
    assert.match((await expert(['--steps', '8', '--until', '4', '--validation', validation, '--out', parts])).stdout, /at step 4, not before --until 4; nothing to do/);
    for (const folder of [parts, fresh]) {
      const resumed = await expert(['--steps', '8', '--validation', validation, '--out', folder]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stdout, /resuming .* at step 4/);
    }
    const [partsRun, freshRun] = [parts, fresh].map((f) => JSON.parse(fs.readFileSync(path.join(f, 'run.json'), 'utf8')));
    assert.deepEqual([partsRun.step, partsRun.resumes, partsRun.optimizerResumedAt], [8, [4], [4]]);
    assert.deepEqual([freshRun.step, freshRun.resumes, freshRun.optimizerResumedAt], [8, [4], []]);
    // A finished expert keeps no Adam state: going on from it starts a schedule of its own.
    for (const folder of [whole, parts]) assert.deepEqual(fs.readdirSync(folder).filter((f) => f.startsWith('optimizer')), []);
    // With Adam's state the parts end where the whole run does, bit for bit (Adam's bias-correction
    // powers are recomputed at a resume, and come out the same); a fresh Adam ends elsewhere.
    assert.equal(largestDifference(weightsOf(parts), weightsOf(whole)), 0);
    const withoutState = largestDifference(weightsOf(fresh), weightsOf(whole));
    assert.ok(withoutState > 1e-4, `a fresh Adam's resume differs by only ${withoutState}`);
  });

  // 8 steps: Adam at 1e-3 to step 6, then a new one at 3e-4. A checkpoint at 6 holds the 1e-3
  // Adam, which the resume must drop as the unbroken run does; one at 7 holds the 3e-4 Adam.
  for (const until of [6, 7]) {
    it(`resumes exactly from a checkpoint at step ${until} (${until === 6 ? 'the switch to 3e-4' : 'after it'})`, async () => {
      const parts = path.join(dir, `parts-${until}`);
      assert.equal((await expert(['--steps', '8', '--until', String(until), '--validation', validation, '--out', parts])).code, 0);
      assert.equal(JSON.parse(fs.readFileSync(path.join(parts, 'optimizer.json'), 'utf8')).learningRate, until === 6 ? 1e-3 : 3e-4);
      assert.equal((await expert(['--steps', '8', '--validation', validation, '--out', parts])).code, 0);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(parts, 'run.json'), 'utf8')).optimizerResumedAt, [until]);
      assert.equal(largestDifference(weightsOf(parts), weightsOf(whole)), 0);
    });
  }

  it('refuses a checkpoint with half of its Adam state, naming the fix', async () => {
    const half = path.join(dir, 'half');
    assert.equal((await expert(['--steps', '8', '--until', '2', '--validation', validation, '--out', half])).code, 0);
    fs.rmSync(path.join(half, 'optimizer.bin'));
    const refused = await expert(['--steps', '8', '--validation', validation, '--out', half]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /is unreadable \(one of the two files is missing\); delete those two files to resume with a fresh Adam/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(half, 'run.json'), 'utf8')).step, 2);
  });
});

describe('zero-o-reader crops and train refuse bad flags before any work', function () {
  this.timeout(120000);
  // --crops names a folder that does not exist: each refusal comes before the crops would be read
  const refusals: Array<[string[], string]> = [
    [['crops', '--count', 'abc'], '--count must be a whole number of crops >= 1, got abc'],
    [['crops', '--count', '0'], '--count must be a whole number of crops >= 1, got 0'],
    [['train', '--crops', 'no-such-crops', '--epochs', 'abc'], '--epochs must be a whole number >= 1, got abc'],
    [['train', '--crops', 'no-such-crops', '--lr', '0'], '--lr must be a positive learning rate, got 0'],
    [['train', '--crops', 'no-such-crops', '--init', 'models/r', '--out', 'models/r/'], '--init and --out are both models/r/; give another --out, so that the reader it starts from stays as it is'],
  ];
  for (const [args, message] of refusals) {
    it(`${args.join(' ')}: ${message}`, async () => {
      const { code, stderr } = await zeroOReader(args);
      assert.notEqual(code, 0);
      assert.ok(stderr.includes(message), stderr);
    });
  }
});
