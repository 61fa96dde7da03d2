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

/** Runs `zero-o-reader.js expert` with `args`; resolves to its exit code, stdout and stderr. */
async function expert(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, 'expert', ...args], { env: { ...process.env, ZERO_O_PART: String(PART) } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

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
