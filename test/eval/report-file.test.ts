import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { checkReportTarget, reportFileName } from '../../src/eval/report-file';
import { tempDir } from '../helpers';

describe('evaluation report files', () => {
  it('names a report after what was evaluated: fresh count, seed, version, length, decoding; or folder and split', () => {
    const fresh = { kind: 'fresh', count: 5, seed: 424242, captchaVersion: '0.7.0', length: 4 } as const;
    assert.equal(reportFileName(fresh, false), 'evaluation-fresh-5-seed-424242-v0.7.0-4ch.json');
    assert.equal(reportFileName({ ...fresh, count: 10000, seed: 31337, captchaVersion: '0.7.1', length: [3, 6] }, true), 'evaluation-fresh-10000-seed-31337-v0.7.1-3-6ch-greedy.json');
    assert.equal(reportFileName({ kind: 'folder', dir: '../shared/reference/lepture-160x60-sample/', split: 'all' }, false), 'evaluation-lepture-160x60-sample-all.json');
    assert.equal(reportFileName({ kind: 'folder', dir: 'data/my images (2)', split: 'test' }, false), 'evaluation-my-images-2-test.json');
  });

  describe('checkReportTarget', () => {
    const identity = { model: 'models/m', source: '5 fresh 4-character CAPTCHAs (seed 1, v0.7.0)', decoding: 'one character per head' };
    let dir: string;
    let cleanup: () => void;
    beforeEach(() => ({ dir, cleanup } = tempDir()));
    afterEach(() => cleanup());
    const write = (name: string, json: object | string) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
      return file;
    };

    it('accepts a new file and the report of the same evaluation (a rerun replaces its own report)', () => {
      checkReportTarget(path.join(dir, 'none.json'), identity);
      checkReportTarget(write('same.json', { ...identity, model: './models/m/', count: 5 }), identity);
    });

    it('refuses the report of another evaluation, naming both, and leaves it as it was', () => {
      const other = { ...identity, source: '10000 fresh 4-character CAPTCHAs (seed 1, v0.7.0)', count: 10000 };
      const file = write('other.json', other);
      assert.throws(() => checkReportTarget(file, identity), {
        message: `'${file}' holds the report of another evaluation (10000 fresh 4-character CAPTCHAs (seed 1, v0.7.0); one character per head; model models/m), ` +
          `not of this one (5 fresh 4-character CAPTCHAs (seed 1, v0.7.0); one character per head; model models/m); pass --out <file> to keep both, or delete it first to replace it`,
      });
      assert.throws(() => checkReportTarget(write('greedy.json', { ...identity, decoding: 'CTC greedy, any length' }), identity), /another evaluation/);
      assert.throws(() => checkReportTarget(write('model.json', { ...identity, model: 'models/other' }), identity), /another evaluation/);
      // a report from before reports recorded their decoding is another evaluation too
      const { decoding, ...old } = identity;
      void decoding;
      assert.throws(() => checkReportTarget(write('old.json', old), identity), /\(.*; decoding not recorded; model models\/m\)/);
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), other);
    });

    it('refuses a file that is not a report, a folder, and a path through a file', () => {
      assert.throws(() => checkReportTarget(write('notes.txt', 'my notes'), identity), /notes.txt' exists and is not an evaluation report; pass another --out/);
      assert.throws(() => checkReportTarget(write('meta.json', { architecture: 'seed' }), identity), /is not an evaluation report/);
      assert.throws(() => checkReportTarget(dir, identity), /is a folder; give a file name/);
      const file = write('a-file', 'x');
      assert.throws(() => checkReportTarget(path.join(file, 'sub', 'r.json'), identity), /cannot be written: '.*a-file' is a file, not a folder; pass another --out/);
      checkReportTarget(path.join(dir, 'new', 'sub', 'r.json'), identity); // folders still to be made are fine
    });
  });
});
