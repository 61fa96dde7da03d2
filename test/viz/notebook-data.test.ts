import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { clearNotebookFolder, comparedRunCurves, folderImageBytes } from '../../src/viz';
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
