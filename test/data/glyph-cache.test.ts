import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ImageCaptcha } from '../../src/captcha';
import { createCaptchaStream } from '../../src/data';
import { GLYPH_CACHE_ENV, glyphCacheFile, readCachedAtlas, writeCachedAtlas } from '../../src/data/glyph-cache';
import { tempDir } from '../helpers';

const ROOT = path.join(__dirname, '..', '..');

/** sha256 of the first batch of a small stream, drawn on this thread. */
async function firstBatchDigest(version: '0.7.1' | '0.2.2'): Promise<string> {
  const stream = createCaptchaStream({ batchSize: 4, seed: 'glyph-cache', workers: 0, captcha: { width: 150, height: 70, version } });
  const b = await stream.next();
  await stream.close();
  return crypto.createHash('sha256').update(b.pixels).update(b.texts.join(',')).digest('hex');
}

describe('glyph atlas cache (CAPTCHA_LAB_GLYPH_CACHE)', function () {
  this.timeout(60_000);
  const saved = process.env[GLYPH_CACHE_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[GLYPH_CACHE_ENV];
    else process.env[GLYPH_CACHE_ENV] = saved;
  });

  it('stores an atlas and reads back the same glyphs, under a name set by fonts, sizes and characters', () => {
    const { dir, cleanup } = tempDir();
    try {
      const atlas = new ImageCaptcha({ alphabet: 'AB0' }).glyphAtlas();
      assert.equal(readCachedAtlas(dir, { alphabet: 'AB0' }), undefined);
      const file = writeCachedAtlas(dir, { alphabet: 'AB0' }, atlas);
      assert.deepEqual(readCachedAtlas(dir, { alphabet: '0BA' }), atlas, 'the order of the alphabet does not matter');
      assert.equal(glyphCacheFile(dir, { alphabet: '0BA' }), file);
      assert.notEqual(glyphCacheFile(dir, { alphabet: 'AB0', version: '0.2.2' }), file, "0.2.2's bigger fonts are another atlas");
      assert.notEqual(glyphCacheFile(dir, { alphabet: 'AB01' }), file);
      // a font file that differs from the one the atlas was drawn with: drawn again
      const stored = JSON.parse(fs.readFileSync(file, 'utf8'));
      assert.equal(Object.keys(stored.fonts).length, 1, 'the font file is recorded by its sha256');
      fs.writeFileSync(file, JSON.stringify({ ...stored, fonts: { [Object.keys(stored.fonts)[0]]: 'another' } }));
      assert.equal(readCachedAtlas(dir, { alphabet: 'AB0' }), undefined);
      fs.writeFileSync(file, '{"faces": [');
      assert.throws(() => readCachedAtlas(dir, { alphabet: 'AB0' }), /is damaged .*delete it/);
      fs.writeFileSync(file, '{"fonts": {}}');
      assert.throws(() => readCachedAtlas(dir, { alphabet: 'AB0' }), /is damaged \(no faces\)/);
    } finally {
      cleanup();
    }
  });

  it('lets a process without node-canvas draw the same CAPTCHAs once the atlas is cached', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const expected = { '0.7.1': await firstBatchDigest('0.7.1'), '0.2.2': await firstBatchDigest('0.2.2') };
      process.env[GLYPH_CACHE_ENV] = dir;
      assert.equal(await firstBatchDigest('0.7.1'), expected['0.7.1'], 'rendered and cached');
      assert.equal(await firstBatchDigest('0.2.2'), expected['0.2.2']);
      assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length, 2);
      // an atlas the caller gives wins: the cache is neither read nor written
      const own = new ImageCaptcha({ alphabet: 'XY' }).glyphAtlas();
      const stream = createCaptchaStream({ batchSize: 1, seed: 1, workers: 0, text: { alphabet: 'XY', length: 2 }, captcha: { alphabet: 'XY', glyphAtlas: own } });
      await stream.next();
      await stream.close();
      assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length, 2);
      // a child process in which require('canvas') fails, as on the GPU machine
      const block = path.join(dir, 'block-canvas.js');
      fs.writeFileSync(block, `const M = require('module'); const r = M._resolveFilename;
M._resolveFilename = function (request, ...rest) { if (request === 'canvas') throw new Error('node-canvas is blocked'); return r.call(this, request, ...rest); };`);
      const script = `const crypto = require('crypto'); const { createCaptchaStream } = require(${JSON.stringify(path.join(ROOT, 'src', 'data'))});
(async () => { const out = {}; for (const version of ['0.7.1', '0.2.2']) {
  const s = createCaptchaStream({ batchSize: 4, seed: 'glyph-cache', workers: 0, captcha: { width: 150, height: 70, version } });
  const b = await s.next(); await s.close();
  out[version] = crypto.createHash('sha256').update(b.pixels).update(b.texts.join(',')).digest('hex'); }
  console.log(JSON.stringify(out)); })().catch((e) => { console.error(e.message); process.exit(1); });`;
      const run = (env: Record<string, string | undefined>) =>
        spawnSync(process.execPath, ['-r', block, '-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 50_000 });
      const cachedRun = run({ [GLYPH_CACHE_ENV]: dir });
      assert.equal(cachedRun.status, 0, cachedRun.stderr);
      assert.deepEqual(JSON.parse(cachedRun.stdout.trim().split('\n').pop()!), expected);
      const uncached = run({ [GLYPH_CACHE_ENV]: path.join(dir, 'empty') });
      assert.notEqual(uncached.status, 0, 'without the cache it needs node-canvas');
      assert.match(uncached.stderr, /node-canvas is blocked/);
    } finally {
      cleanup();
    }
  });
});
