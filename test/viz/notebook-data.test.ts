import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { clearNotebookFolder, comparedRunCurves, folderImageBytes, plateauExamples } from '../../src/viz';
import * as os from 'os';
import { tempDir } from '../helpers';

describe('notebook folders', () => {
  it('deletes a folder named nb-* and nothing else', () => {
    const { dir, cleanup } = tempDir();
    try {
      const ours = path.join(dir, 'nb-captchas');
      const theirs = path.join(dir, 'captchas');
      fs.mkdirSync(ours);
      fs.mkdirSync(theirs);
      clearNotebookFolder(ours);
      assert.equal(fs.existsSync(ours), false);
      assert.throws(() => clearNotebookFolder(theirs), /refusing to delete '.*captchas': notebooks only replace folders named nb-\*/);
      assert.equal(fs.existsSync(theirs), true);
      clearNotebookFolder(path.join(dir, 'nb-missing')); // absent: nothing to do
    } finally {
      cleanup();
    }
  });

  it('adds up the bytes of the image files only', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.writeFileSync(path.join(dir, '0.jpg'), Buffer.alloc(10));
      fs.writeFileSync(path.join(dir, '1.png'), Buffer.alloc(5));
      fs.writeFileSync(path.join(dir, 'labels.txt'), 'AB\nCD\n');
      assert.equal(folderImageBytes(dir), 15);
    } finally {
      cleanup();
    }
  });
});

describe('comparedRunCurves', () => {
  it('keeps the runs that exist, each starting at (0 min, 0%)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'curves-'));
    try {
      fs.mkdirSync(path.join(dir, 'a'));
      fs.writeFileSync(path.join(dir, 'a', 'run.json'), JSON.stringify({ history: [], curve: [{ minutes: 5, wholeAccuracy: 0.5 }] }));
      const series = comparedRunCurves([{ name: 'a', dir: path.join(dir, 'a') }, { name: 'missing', dir: path.join(dir, 'b') }]);
      assert.deepEqual(series, [{ name: 'a', points: [{ minutes: 0, wholeAccuracy: 0 }, { minutes: 5, wholeAccuracy: 0.5 }] }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('plateauExamples', () => {
  const write = (dir: string, name: string, architecture: string, outcome: string | null, probes = [{ step: 0, deadFraction: 0.5 }]) => {
    fs.mkdirSync(path.join(dir, name));
    const plateau = outcome === null ? undefined : { outcome, probes };
    fs.writeFileSync(path.join(dir, name, 'run.json'), JSON.stringify({ architecture, history: [], plateau }));
  };

  it('picks one stuck and one escaped run, the original network first, and names what is missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plateau-'));
    try {
      write(dir, 'a-bn', 'seed-bn', 'escaped');
      write(dir, 'b-seed', 'seed', 'stuck', [{ step: 0, deadFraction: 0.2 }, { step: 20, deadFraction: 1 }]);
      write(dir, 'c-seed', 'seed', 'escaped');
      write(dir, 'd-undecided', 'seed', 'undecided');
      write(dir, 'e-old', 'seed', null);
      fs.mkdirSync(path.join(dir, 'f-damaged'));
      fs.writeFileSync(path.join(dir, 'f-damaged', 'run.json'), '{ not json');
      const { runs, missing, unreadable } = plateauExamples(dir);
      assert.deepEqual(runs.map((r) => [r.name, r.outcome]), [['b-seed', 'stuck'], ['c-seed', 'escaped']]);
      assert.deepEqual(runs[0].probes, [{ step: 0, deadFraction: 0.2 }, { step: 20, deadFraction: 1 }]);
      assert.deepEqual(missing, []);
      assert.deepEqual(unreadable, [path.join(dir, 'f-damaged', 'run.json')]);
      fs.rmSync(path.join(dir, 'b-seed'), { recursive: true });
      assert.deepEqual(plateauExamples(dir).missing, ['stuck']);
      assert.deepEqual(plateauExamples(path.join(dir, 'absent')), { runs: [], missing: ['stuck', 'escaped'], unreadable: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
