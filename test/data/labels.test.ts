import { strict as assert } from 'assert';
import * as fs from 'fs';
import { decodeLabels, encodeLabels, readLabels } from '../../src/data/labels';
import { splitIndices, shuffledIndices } from '../../src/data/split';
import { DEFAULT_ALPHABET } from '../../src/models';
import { tempDir } from '../helpers';

describe('labels', () => {
  it('encodes texts per position over the alphabet and decodes them back', () => {
    const codes = encodeLabels(['0A9Z', 'K9P3'], DEFAULT_ALPHABET, 4);
    assert.deepEqual(Array.from(codes), [0, 10, 9, 35, 20, 9, 25, 3]);
    assert.deepEqual(decodeLabels(codes, DEFAULT_ALPHABET, 4), ['0A9Z', 'K9P3']);
  });

  it('refuses characters outside the alphabet and texts of the wrong length', () => {
    assert.throws(() => encodeLabels(['AB c'], DEFAULT_ALPHABET, 4), /label 'AB c' \(text 1 of 1\) has ' ', which is not in the alphabet/);
    assert.throws(() => encodeLabels(['0A9Z', 'ABC'], DEFAULT_ALPHABET, 4), /label 'ABC' \(text 2 of 2\) has 3 characters; this model reads exactly 4/);
  });

  it('reads labels.txt and names the bad line or the count mismatch', () => {
    const { dir, cleanup } = tempDir();
    try {
      fs.writeFileSync(`${dir}/labels.txt`, 'K9P3\nZH8R\n');
      assert.deepEqual(readLabels(dir, DEFAULT_ALPHABET, 2), ['K9P3', 'ZH8R']);
      assert.throws(() => readLabels(dir, DEFAULT_ALPHABET, 3), /labels.txt has 2 lines but the folder has 3 images/);
      fs.writeFileSync(`${dir}/labels.txt`, 'K9P3\nzh8r\n');
      assert.throws(() => readLabels(dir, DEFAULT_ALPHABET), /labels.txt line 2 \('zh8r'\) has 'z', which is not in the alphabet/);
      fs.rmSync(`${dir}/labels.txt`);
      assert.throws(() => readLabels(dir, DEFAULT_ALPHABET), /no labels.txt in/);
    } finally {
      cleanup();
    }
  });
});

describe('splitIndices', () => {
  it('splits 90/10 deterministically by seed, covering every index once', () => {
    const a = splitIndices(1000, 0.1, 7);
    assert.equal(a.test.length, 100);
    assert.equal(a.train.length, 900);
    assert.deepEqual([...a.train, ...a.test].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
    assert.deepEqual(splitIndices(1000, 0.1, 7), a);
    assert.notDeepEqual(splitIndices(1000, 0.1, 8).test, a.test);
  });

  it('shuffles differently per seed and refuses bad fractions', () => {
    assert.notDeepEqual(shuffledIndices(50, 1), shuffledIndices(50, 2));
    assert.throws(() => splitIndices(10, 1.5, 1), /test fraction 1.5 must be between 0 and 1/);
    assert.throws(() => splitIndices(1, 0.1, 1), /cannot split 1 images/);
  });
});
