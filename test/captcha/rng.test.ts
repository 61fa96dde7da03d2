import * as assert from 'assert';
import { createRng, deriveSeed, expandAlphabet, randomText, replayDraws, resolveTextOptions } from '../../src/captcha';

describe('createRng', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    const draw = (seed: number | string) => {
      const r = createRng(seed);
      return [r.randbits32(), r.randbelow(1000), r.random(), r.choice(['a', 'b', 'c'])];
    };
    assert.deepStrictEqual(draw(42), draw(42));
    assert.deepStrictEqual(draw(42), draw('42'));
    assert.notDeepStrictEqual(draw(42), draw(43));
  });

  it('keeps randbelow in [0, n) and covers it evenly', () => {
    const r = createRng(1);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[r.randbelow(7)]++;
    assert.ok(counts.every((c) => c > 850 && c < 1150), counts.join(' '));
    assert.strictEqual(r.randbelow(1), 0);
    const big = r.randbelow(2 ** 32);
    assert.ok(big >= 0 && big < 2 ** 32 && Number.isInteger(big));
  });

  it('draws random() in [0, 1) with 32-bit resolution', () => {
    const r = createRng('u');
    for (let i = 0; i < 1000; i++) {
      const u = r.random();
      assert.ok(u >= 0 && u < 1);
      assert.strictEqual(u * 2 ** 32, Math.floor(u * 2 ** 32));
    }
  });

  it('refuses bad arguments with the fix', () => {
    assert.throws(() => createRng(1.5), { message: "seed must be a safe integer or a string, got 1.5; pass e.g. 42 or 'my-run'" });
    assert.throws(() => createRng(1).randbelow(0), { message: 'randbelow(n) needs an integer 1 <= n <= 2^32, got 0' });
    assert.throws(() => createRng(1).choice([]), { message: 'choice() needs a non-empty sequence' });
    assert.throws(() => deriveSeed(1, -1), { message: 'index must be a non-negative integer, got -1' });
  });

  it('derives independent per-item seeds', () => {
    assert.strictEqual(deriveSeed(7, 3), deriveSeed('7', 3));
    assert.notStrictEqual(createRng(deriveSeed(7, 3)).randbits32(), createRng(deriveSeed(7, 4)).randbits32());
  });
});

describe('randomText', () => {
  it('draws 4 distinct characters of 0-9A-Z by default', () => {
    const r = createRng(3);
    for (let i = 0; i < 200; i++) {
      const t = randomText(r);
      assert.match(t, /^[0-9A-Z]{4}$/);
      assert.strictEqual(new Set(t).size, 4);
    }
  });

  it('follows length, alphabet and uniqueness options', () => {
    const r = createRng(4);
    assert.match(randomText(r, { length: 6, alphabet: 'a-f' }), /^[a-f]{6}$/);
    const repeats = Array.from({ length: 300 }, () => randomText(r, { length: 3, alphabet: 'AB', unique: false }));
    assert.ok(repeats.some((t) => t === 'AAA' || t === 'BBB'));
    const lengths = new Set(Array.from({ length: 300 }, () => randomText(r, { length: [2, 5] }).length));
    assert.deepStrictEqual([...lengths].sort(), [2, 3, 4, 5]);
  });

  it('is reproducible from the seed', () => {
    assert.strictEqual(randomText(createRng(9)), randomText(createRng(9)));
  });

  it('treats options given as undefined as not given (forwarded optional flags)', () => {
    assert.strictEqual(randomText(createRng(9), { length: undefined, alphabet: undefined }), randomText(createRng(9)));
    assert.strictEqual(resolveTextOptions({ unique: undefined }).unique, true);
  });

  it('refuses impossible settings', () => {
    assert.throws(() => randomText(createRng(1), { length: 5, alphabet: 'ABC' }), {
      message: "cannot draw 5 distinct characters from the 3 of 'ABC'; shorten the text, enlarge the alphabet or allow repeats",
    });
    assert.throws(() => randomText(createRng(1), { length: 0 }), {
      message: 'text length must be a positive integer or [min, max] with 1 <= min <= max, got 0',
    });
    assert.throws(() => resolveTextOptions({ length: [5, 3] }), /1 <= min <= max, got \[5,3\]/);
  });
});

describe('expandAlphabet', () => {
  it('expands ranges and keeps literal characters', () => {
    assert.strictEqual(expandAlphabet('0-9A-Z'), '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ');
    assert.strictEqual(expandAlphabet('-ab-d'), '-abcd');
  });

  it('refuses duplicates, backward ranges and whitespace', () => {
    assert.throws(() => expandAlphabet('AA'), { message: "alphabet 'AA' contains 'A' twice; list each character once" });
    assert.throws(() => expandAlphabet('Z-A'), { message: "alphabet range 'Z-A' runs backwards; write 'A-Z'" });
    assert.throws(() => expandAlphabet('A B'), { message: "alphabet 'A B' contains whitespace; CAPTCHA characters must be visible" });
    assert.throws(() => expandAlphabet(''), { message: `alphabet must be a non-empty string such as '0-9A-Z', got ""` });
  });

  it('refuses characters that are no glyph of their own: combining marks, control and format characters', () => {
    assert.throws(() => expandAlphabet('AB\u0301'), {
      message:
        'alphabet "AB\u0301" contains U+0301, a combining mark (it only decorates the character before it), which the generator ' +
        'cannot draw as a character of its own; use only visible characters that stand alone (letters, digits, symbols)',
    });
    assert.throws(() => expandAlphabet('A\u0007'), /contains U\+0007, a control character/);
    assert.throws(() => expandAlphabet('A\u200b'), /contains U\+200B, an invisible format character/);
    assert.throws(() => expandAlphabet('A\ud800'), /contains U\+D800, half of a surrogate pair/);
    // A precomposed accented letter is one glyph, and fine.
    assert.strictEqual(expandAlphabet('A\u00c9'), 'A\u00c9');
  });
});

describe('replayDraws', () => {
  it('gives back the recorded values in order and counts what is left', () => {
    const r = replayDraws([[18, 5], [0, 2 ** 31], [3, 2]]);
    assert.deepStrictEqual([r.randbelow(18), r.random(), r.choice(['a', 'b', 'c']), r.left()], [5, 0.5, 'c', 0]);
  });

  it('names both draws when the generator asks for another kind than lepture made', () => {
    const r = replayDraws([[18, 5], [0, 7]]);
    assert.throws(() => r.randbelow(19), { message: 'draw 0: the generator asked for randbelow(19), lepture drew randbelow(18)' });
    assert.throws(() => r.randbelow(3), { message: 'draw 1: the generator asked for randbelow(3), lepture drew random()' });
    assert.throws(() => r.random(), { message: 'draw 2: the generator asked for random(), lepture drew nothing (no draws left)' });
  });
});
