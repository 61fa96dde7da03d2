import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { createFolder, nearestExisting, writeFileAtomicFrom } from '../../src/files';
import { tempDir } from '../helpers';

describe('createFolder', () => {
  it('creates missing parents and accepts an existing folder', () => {
    const { dir, cleanup } = tempDir();
    try {
      const deep = path.join(dir, 'a', 'b', 'c');
      createFolder(deep);
      createFolder(deep);
      assert.ok(fs.statSync(deep).isDirectory());
      fs.writeFileSync(path.join(dir, 'file'), '');
      assert.throws(() => createFolder(path.join(dir, 'file')), { code: 'ENOTDIR' });
    } finally {
      cleanup();
    }
  });

  it('fails at once where mkdir answers ENOENT for a parent that exists (/proc)', function () {
    if (!fs.existsSync('/proc/self')) this.skip();
    assert.throws(() => createFolder('/proc/captcha-lab/x'), { code: 'ENOENT', path: '/proc/captcha-lab' });
  });
});

describe('writeFileAtomicFrom', () => {
  it('writes the pieces as one file, and leaves no file when a piece fails', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'lines.txt');
      writeFileAtomicFrom(file, ['a\n', Buffer.from('b\n')]);
      assert.equal(fs.readFileSync(file, 'utf8'), 'a\nb\n');
      function* failing(): Generator<string> {
        yield 'partial\n';
        throw new Error('generator failed');
      }
      assert.throws(() => writeFileAtomicFrom(file, failing()), /generator failed/);
      assert.equal(fs.readFileSync(file, 'utf8'), 'a\nb\n');
      assert.deepEqual(fs.readdirSync(dir), ['lines.txt']);
    } finally {
      cleanup();
    }
  });
});

describe('nearestExisting', () => {
  it('walks up to the closest path that exists, and stops at the root', () => {
    const { dir, cleanup } = tempDir();
    try {
      assert.equal(nearestExisting(path.join(dir, 'a', 'b')), dir);
      assert.equal(nearestExisting(dir), dir);
      assert.equal(nearestExisting('/no-such-folder-captcha-lab/x'), '/');
    } finally {
      cleanup();
    }
  });
});
