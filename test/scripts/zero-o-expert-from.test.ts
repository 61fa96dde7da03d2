import { strict as assert } from 'assert';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

// Built next to this test: dist/test/scripts -> dist/scripts.
const SCRIPT = path.join(__dirname, '..', '..', 'scripts', 'zero-o-reader.js');

/** Runs `zero-o-reader.js expert` with `args`; resolves to its exit code and stderr. */
async function expert(args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [SCRIPT, 'expert', ...args]);
    return { code: 0, stderr };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe('zero-o-reader expert --from (going on from a trained expert)', function () {
  this.timeout(60000);
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
    fs.mkdirSync(path.join(dir, 'empty'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const refusals: Array<[string, (d: string) => string[], RegExp]> = [
    ['a folder that holds no expert', (d) => ['--steps', '8000', '--from', path.join(d, 'empty'), '--out', path.join(d, 'out')], /holds no expert's run\.json/],
    ['an expert that has not finished its own steps', (d) => ['--steps', '8000', '--from', path.join(d, 'unfinished'), '--out', path.join(d, 'out')], /stopped at step 2750 of 4000; finish it first/],
    ['another --jitter than it was trained with', (d) => ['--steps', '8000', '--jitter', '1', '--from', path.join(d, 'done'), '--out', path.join(d, 'out')], /trained with --jitter 2; go on with the same/],
    ['no more steps than it has trained', (d) => ['--steps', '4000', '--from', path.join(d, 'done'), '--out', path.join(d, 'out')], /--steps 4000 must be more than the 4000 steps/],
    ['its own folder as --out', (d) => ['--steps', '8000', '--from', path.join(d, 'done'), '--out', path.join(d, 'done', '.')], /give another --out/],
  ];
  for (const [what, args, message] of refusals) {
    it(`refuses ${what}, before reading anything else, and writes nothing`, async () => {
      const before = fs.readFileSync(path.join(dir, 'done', 'run.json'), 'utf8');
      const { code, stderr } = await expert(args(dir));
      assert.equal(code, 1);
      assert.match(stderr, message);
      assert.ok(!fs.existsSync(path.join(dir, 'out')));
      assert.equal(fs.readFileSync(path.join(dir, 'done', 'run.json'), 'utf8'), before);
    });
  }
});
