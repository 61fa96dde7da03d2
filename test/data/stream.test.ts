import * as assert from 'assert';
import { createCaptchaStream } from '../../src/data';

describe('createCaptchaStream', () => {
  it('yields batches of [B, H, W, 3] RGB pixels with their texts', async () => {
    const s = createCaptchaStream({ batchSize: 3, seed: 1, workers: 0 });
    const b = await s.next();
    assert.deepStrictEqual([b.batchSize, b.height, b.width, b.index, b.pixels.length, b.texts.length], [3, 60, 160, 0, 3 * 60 * 160 * 3, 3]);
    for (const t of b.texts) assert.match(t, /^[0-9A-Z]{4}$/);
    assert.strictEqual((await s.next()).index, 1);
    await s.close();
  });

  it('gives the same batch k whatever the number of workers or where it starts', async () => {
    const inline = createCaptchaStream({ batchSize: 4, seed: 'k', workers: 0 });
    const a0 = await inline.next();
    const a1 = await inline.next();
    const a2 = await inline.next();
    await inline.close();
    const pooled = createCaptchaStream({ batchSize: 4, seed: 'k', workers: 2, prefetch: 3 });
    const batches = [await pooled.next(), await pooled.next(), await pooled.next()];
    await pooled.close();
    const late = createCaptchaStream({ batchSize: 4, seed: 'k', workers: 1, startBatch: 2 });
    const c2 = await late.next();
    await late.close();
    [a0, a1, a2].forEach((a, k) => {
      assert.ok(Buffer.from(a.pixels).equals(Buffer.from(batches[k].pixels)), `batch ${k}`);
      assert.deepStrictEqual(a.texts, batches[k].texts);
    });
    assert.strictEqual(c2.index, 2);
    assert.ok(Buffer.from(c2.pixels).equals(Buffer.from(a2.pixels)));
  });

  it('draws variable-length texts for CTC models', async () => {
    const s = createCaptchaStream({ batchSize: 40, workers: 0, text: { length: [2, 6] } });
    const lengths = new Set((await s.next()).texts.map((t) => t.length));
    await s.close();
    assert.ok([...lengths].every((n) => n >= 2 && n <= 6) && lengths.size >= 3, [...lengths].join());
  });

  it('passes captcha options through', async () => {
    const s = createCaptchaStream({ batchSize: 1, workers: 0, captcha: { width: 90, height: 32, version: '0.7.1' } });
    const b = await s.next();
    await s.close();
    assert.deepStrictEqual([b.width, b.height, b.pixels.length, s.spec.captcha.version], [90, 32, 90 * 32 * 3, '0.7.1']);
  });

  it('refuses use after close and bad options', async () => {
    const s = createCaptchaStream({ batchSize: 1, workers: 1 });
    await s.next();
    await s.close();
    await assert.rejects(s.next(), { message: 'the captcha stream is closed; create a new one with createCaptchaStream()' });
    assert.throws(() => createCaptchaStream({ batchSize: 0 }), { message: 'batchSize must be an integer >= 1, got 0' });
    assert.throws(() => createCaptchaStream({ workers: -1 }), { message: 'workers must be an integer >= 0, got -1' });
  });
});
