import * as assert from 'assert';
import { checkCaptchaMix, createCaptchaStream, mixVariant, type CaptchaMix } from '../../src/data';

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

describe('createCaptchaStream with a mix of versions and sizes', () => {
  const mix: CaptchaMix = { versions: ['0.7.0', '0.2.2'], width: [100, 120], height: [40, 50] };

  it('picks each batch\'s version and size from the seed alone, over every version and within the ranges', () => {
    const variants = Array.from({ length: 200 }, (_, k) => mixVariant(mix, 's', k));
    assert.deepStrictEqual(variants.slice(0, 20), Array.from({ length: 20 }, (_, k) => mixVariant(mix, 's', k)));
    assert.deepStrictEqual(new Set(variants.map((v) => v.version)), new Set(['0.7.0', '0.2.2']));
    assert.ok(variants.every((v) => v.width >= 100 && v.width <= 120 && v.height >= 40 && v.height <= 50));
    // both ends of each range are reachable
    for (const [key, lo, hi] of [['width', 100, 120], ['height', 40, 50]] as const) {
      const seen = new Set(variants.map((v) => v[key]));
      assert.ok(seen.has(lo) && seen.has(hi), `${key}: ${[...seen].sort()}`);
    }
    assert.notDeepStrictEqual(variants.slice(0, 20), Array.from({ length: 20 }, (_, k) => mixVariant(mix, 't', k)));
  });

  it('draws batch k exactly as a plain stream of that batch\'s version and size would, with or without workers', async () => {
    const inline = createCaptchaStream({ batchSize: 2, seed: 'm', workers: 0, mix });
    const pooled = createCaptchaStream({ batchSize: 2, seed: 'm', workers: 2, mix });
    try {
      for (let k = 0; k < 4; k++) {
        const a = await inline.next();
        const b = await pooled.next();
        const { version, width, height } = mixVariant(mix, 'm', k);
        assert.deepStrictEqual([a.width, a.height, a.pixels.length], [width, height, 2 * width * height * 3]);
        assert.ok(Buffer.from(a.pixels).equals(Buffer.from(b.pixels)), `batch ${k}: workers differ`);
        const plain = createCaptchaStream({ batchSize: 2, seed: 'm', workers: 0, startBatch: k, captcha: { version, width, height } });
        const c = await plain.next();
        await plain.close();
        assert.ok(Buffer.from(a.pixels).equals(Buffer.from(c.pixels)), `batch ${k}: not the plain ${version} ${width}x${height} images`);
        assert.deepStrictEqual(a.texts, c.texts);
      }
    } finally {
      await inline.close();
      await pooled.close();
    }
  });

  it('refuses a mix without versions, with an unknown version or a reversed range, naming the fix', () => {
    assert.throws(() => checkCaptchaMix({ ...mix, versions: [] }), /mix versions must list at least one of 0\.7\.0/);
    assert.throws(() => checkCaptchaMix({ ...mix, versions: ['0.9' as '0.7.0'] }), /mix version '0\.9' is not one of/);
    assert.throws(() => checkCaptchaMix({ ...mix, width: [170, 140] }), /mix width must be \[min, max\].*got \[170,140\]/);
    assert.throws(() => createCaptchaStream({ workers: 0, mix: { ...mix, height: [4, 60] } }), /mix height must be \[min, max\] in whole pixels, 8 or more/);
  });
});
