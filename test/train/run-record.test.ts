import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { findRunRecord, readRunRecord } from '../../src/train';
import { tempDir } from '../helpers';

describe('run records', () => {
  it('says how to get a run record that is missing', () => {
    assert.throws(() => readRunRecord('/nonexistent/nb-run'), /no run.json in '\/nonexistent\/nb-run'; train first/);
    assert.equal(findRunRecord('/nonexistent/nb-run'), null);
  });

  it('reads the run.json of a run folder', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify({ architecture: 'seed', history: [] }));
      assert.equal(readRunRecord(dir).architecture, 'seed');
      assert.equal(findRunRecord(dir)?.architecture, 'seed');
    } finally {
      cleanup();
    }
  });
});
