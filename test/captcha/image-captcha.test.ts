import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  CAPTCHA_VERSION_PROFILES,
  createRng,
  DEFAULT_FONT,
  DEFAULT_IMAGE_CAPTCHA_OPTIONS,
  encode,
  ImageCaptcha,
  readReplayFile,
  replayDraws,
  type CaptchaVersion,
  type DrawnGlyph,
  type ImageCaptchaOptions,
  type RandomSource,
  type RgbImage,
} from '../../src/captcha';
import { decodeImageBytes } from '../../src/data';

const FIXTURES = path.resolve(__dirname, '../../../test/captcha/fixtures');
const NOTO_SANS_MONO = '/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf';

// One generator per option set: glyphs are rendered once per instance.
const cache = new Map<string, ImageCaptcha>();
function captcha(options: ImageCaptchaOptions = {}): ImageCaptcha {
  const key = JSON.stringify(options);
  if (!cache.has(key)) cache.set(key, new ImageCaptcha(options));
  return cache.get(key)!;
}
const draw = (options: ImageCaptchaOptions = {}, seed: number | string = 1, text = 'K9P3'): RgbImage => captcha(options).generateImage(text, createRng(seed));
const same = (a: RgbImage, b: RgbImage): boolean => a.width === b.width && a.height === b.height && Buffer.from(a.data).equals(Buffer.from(b.data));

const sha256 = (img: RgbImage): string => crypto.createHash('sha256').update(img.data).digest('hex');

/** lepture's own image.py run on recorded draws (make-lepture-replay.py). */
const replayCases = () => readReplayFile(path.join(FIXTURES, 'lepture-replay.json'));

/** Records the kind of every draw: `b<n>` randbelow(n), `U` random(), `c<n>` choice of n. */
function recordingRng(seed: number): { rng: RandomSource; calls: string[] } {
  const calls: string[] = [];
  const base = createRng(seed);
  const rng: RandomSource = {
    randbelow: (n) => (calls.push(`b${n}`), base.randbelow(n)),
    random: () => (calls.push('U'), base.random()),
    choice: (s) => (calls.push(`c${s.length}`), base.choice(s)),
  };
  return { rng, calls };
}

describe('ImageCaptcha', () => {
  it('draws the same image, byte for byte, for the same seed and text', () => {
    assert.ok(same(draw({}, 5), draw({}, 5)));
    assert.ok(same(new ImageCaptcha().generateImage('AB12', createRng('s')), draw({}, 's', 'AB12')));
  });

  it("reports each character's draws when asked (onGlyph), spaces included, without changing the image", () => {
    const captcha = new ImageCaptcha({ version: '0.7.1' });
    const drawn: DrawnGlyph[] = [];
    const image = captcha.generateImage('K0P3', createRng(11), { onGlyph: (g) => drawn.push(g) });
    assert.ok(same(image, captcha.generateImage('K0P3', createRng(11))), 'the same bytes as without the callback');
    assert.deepStrictEqual(drawn.filter((g) => g.char !== ' ').map((g) => g.char).join(''), 'K0P3');
    for (const g of drawn) {
      assert.ok([42, 50, 56].includes(g.fontSize), `font size ${g.fontSize}`);
      assert.ok(g.angle >= -30 && g.angle <= 30, `angle ${g.angle}`);
      assert.ok(g.width > 20 && g.height > 40, `box ${g.width}x${g.height}`);
    }
    // The font size is the face the character was drawn with: its box says which.
    const faces: DrawnGlyph[] = [];
    const twoFonts = new ImageCaptcha({ fonts: [DEFAULT_FONT, DEFAULT_FONT], fontSizes: [20, 60] });
    for (let seed = 0; seed < 6; seed++) twoFonts.generateImage('AB12', createRng(seed), { onGlyph: (g) => faces.push(g) });
    assert.ok(faces.some((g) => g.fontSize === 20) && faces.some((g) => g.fontSize === 60));
    for (const g of faces) assert.ok(g.fontSize === 20 ? g.height < 35 : g.height > 55, `a ${g.fontSize}-px glyph with a ${g.width}x${g.height} box`);
    // lepture draws a space before a character when U > p: p = 0 draws one before each.
    const spaced: DrawnGlyph[] = [];
    new ImageCaptcha({ version: '0.7.1', wordSpaceProbability: 0 }).generateImage('AB', createRng(3), { onGlyph: (g) => spaced.push(g) });
    assert.deepStrictEqual(spaced.map((g) => g.char).join(''), ' A B');
    const upright: DrawnGlyph[] = [];
    new ImageCaptcha({ characterRotate: [0, 0] }).generateImage('AB', createRng(3), { onGlyph: (g) => upright.push(g) });
    assert.ok(upright.every((g) => g.angle === 0));
  });

  it("stretches each glyph's ink to the font's character box, as lepture does: upright, 0 and O come out the same size though the font's O is wider", () => {
    const inkWidthHeight = (image: RgbImage): [number, number] => {
      let [x0, x1, y0, y1] = [Infinity, -1, Infinity, -1];
      for (let i = 0; i < image.width * image.height; i++) {
        const [x, y] = [i % image.width, Math.floor(i / image.width)];
        if (image.data[i * 3] < 200) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
      }
      return [x1 - x0 + 1, y1 - y0 + 1];
    };
    for (const version of ['0.7.1', '0.2.2'] as CaptchaVersion[]) {
      const upright = new ImageCaptcha({ version, width: 64, height: 90, noiseDots: 0, noiseCurve: false, characterRotate: [0, 0], characterWarpDx: [0, 0], characterWarpDy: [0, 0] });
      const face = upright.glyphAtlas().faces[0];
      assert.ok(face.glyphs.O.width >= face.glyphs['0'].width + 2, `the font's O (${face.glyphs.O.width} px) is wider than its 0 (${face.glyphs['0'].width} px)`);
      for (let seed = 0; seed < 6; seed++) {
        const grey = { bgColor: [255, 255, 255] as const, fgColor: [130, 130, 130, 255] as const };
        const [zero, oh] = ['0', 'O'].map((c) => inkWidthHeight(upright.generateImage(c, createRng(seed), grey)));
        assert.deepStrictEqual(zero, oh, `${version} seed ${seed}: 0 ${zero}, O ${oh}`);
      }
    }
  });

  it('reports where each character landed (onGlyph x): after the overlap, the squeeze and the resize of a wide 0.2.2 image', () => {
    // Grey ink: lepture pastes a glyph through its own colour's luma, so black ink would vanish.
    const white = { bgColor: [255, 255, 255] as const, fgColor: [130, 130, 130, 255] as const };
    /** The mean column of the ink, weighted by its darkness. */
    const inkCentre = (image: RgbImage): number => {
      let [sum, mass] = [0, 0];
      for (let i = 0; i < image.width * image.height; i++) {
        const ink = 255 - image.data[i * 3];
        [sum, mass] = [sum + ink * (i % image.width), mass + ink];
      }
      return sum / mass;
    };
    let narrower = 0;
    for (const version of ['0.7.0', '0.7.1', '0.2.2', '0.2.2-pillow4'] as CaptchaVersion[]) {
      // One character alone: its ink is centred in its box, give or take the pen offset and the warp.
      // At 30 px wide, narrower than any glyph box, 0.7.x squeezes it and 0.2.2 resizes the image.
      for (const [width, height] of [[160, 60], [30, 80]]) {
        const plain = new ImageCaptcha({ version, width, height, noiseDots: 0, noiseCurve: false });
        for (const [seed, char] of [...'0OWM7'].entries()) {
          const drawn: DrawnGlyph[] = [];
          const image = plain.generateImage(char, createRng(seed), { ...white, onGlyph: (g) => drawn.push(g) });
          const glyph = drawn.find((g) => g.char === char)!;
          const scale = image.width / Math.max(width, drawn.reduce((sum, g) => sum + g.width, 0));
          if (scale < 1) narrower++;
          assert.ok(Math.abs(inkCentre(image) - glyph.x) <= 4 * scale, `${version} ${width}x${height} '${char}': ink centred at ${inkCentre(image).toFixed(1)}, reported ${glyph.x.toFixed(1)}`);
        }
      }
      // A text: left to right inside the image, spaces included.
      const drawn: DrawnGlyph[] = [];
      const image = new ImageCaptcha({ version, width: 140, height: 80 }).generateImage('W0MQ', createRng(4), { onGlyph: (g) => drawn.push(g) });
      assert.ok(drawn.every((g, i) => g.x > 0 && g.x < image.width && (i === 0 || g.x > drawn[i - 1].x)), `${version}: ${drawn.map((g) => g.x.toFixed(1))}`);
      // Box edges: centred on x, as wide as the box after the squeeze, overlapping the previous box by at most lepture's word offset.
      const scale = image.width / Math.max(140, drawn.reduce((sum, g) => sum + g.width, 0));
      const average = drawn.reduce((sum, g) => sum + g.width, 0) / 4;
      for (const [i, g] of drawn.entries()) {
        assert.ok(Math.abs((g.left + g.right) / 2 - g.x) < 1e-9 && Math.abs(g.right - g.left - g.width * scale) < 1e-9, `${version} #${i}: box ${g.left}-${g.right}, x ${g.x}`);
        if (i > 0) assert.ok(drawn[i - 1].right - g.left <= Math.trunc(0.25 * average) * scale + 1e-9, `${version} #${i} overlaps its neighbour by ${drawn[i - 1].right - g.left} px`);
      }
    }
    // How strongly the ink was pasted: dark ink comes out faint (lepture's mask is the ink's luma x 1.97).
    for (const [ink, strength] of [[30, 59 / 255], [100, 197 / 255], [130, 1]]) {
      const drawn: DrawnGlyph[] = [];
      const image = new ImageCaptcha({ noiseDots: 0, noiseCurve: false }).generateImage('0', createRng(1), { bgColor: [255, 255, 255], fgColor: [ink, ink, ink, 255], onGlyph: (g) => drawn.push(g) });
      assert.ok(drawn.every((g) => Math.abs(g.inkStrength - strength) < 1e-9), `ink ${ink}: strength ${drawn.map((g) => g.inkStrength)}`);
      // The glyph's commonest shade (its edges ring under the bicubic resize, so not its darkest).
      const counts = new Array(256).fill(0);
      for (const v of image.data) if (v < 250) counts[v]++;
      const shade = counts.indexOf(Math.max(...counts));
      assert.ok(Math.abs(shade - (255 - strength * (255 - ink))) <= 3, `ink ${ink}: the glyph's commonest shade is ${shade}, pasted at ${strength.toFixed(3)}`);
    }
    assert.ok(narrower >= 10, `only ${narrower} images were narrower than their glyph: the squeeze went untested`);
  });

  it('draws a different image for another seed', () => {
    assert.ok(!same(draw({}, 5), draw({}, 6)));
  });

  it('returns width x height RGB bytes', () => {
    const img = draw({ width: 100, height: 40 });
    assert.deepStrictEqual([img.width, img.height, img.data.length], [100, 40, 100 * 40 * 3]);
  });

  for (const versions of [['0.7.0', '0.7.1'], ['0.2.2'], ['0.2.2-pillow4']] as CaptchaVersion[][]) {
    it(`reproduces lepture/captcha ${versions.join(' and ')} on Pillow 9.4 bit for bit, given the same random draws`, () => {
      const cases = replayCases().filter((c) => versions.includes(c.version));
      assert.ok(cases.length >= 6 * versions.length, `${cases.length} cases`);
      for (const c of cases) {
        const rng = replayDraws(c.draws);
        const img = captcha({ version: c.version, width: c.width, height: c.height }).generateImage(c.label, rng, { keepWidth: true });
        assert.strictEqual(rng.left(), 0, `${c.version} ${c.label}: draws left over`);
        assert.strictEqual(sha256(img), c.sha256, `${c.version} ${c.label} ${c.width}x${c.height}`);
      }
    });
  }

  it("keeps 0.2.2's overflow only when asked: by default resizes it to the width with the version's filter, as Pillow does", () => {
    const wide = replayCases().filter((c) => c.fitted_sha256);
    assert.deepStrictEqual([...new Set(wide.map((c) => c.version))].sort(), ['0.2.2', '0.2.2-pillow4']);
    for (const c of wide) {
      const generator = captcha({ version: c.version, width: c.width, height: c.height });
      const kept = generator.generateImage(c.label, replayDraws(c.draws), { keepWidth: true });
      const fitted = generator.generateImage(c.label, replayDraws(c.draws));
      assert.ok(kept.width > c.width, `${c.version} ${c.label} is ${kept.width} wide`);
      assert.deepStrictEqual([fitted.width, fitted.height], [c.width, c.height]);
      assert.strictEqual(sha256(fitted), c.fitted_sha256, `${c.version} ${c.label}`);
    }
  });

  it('draws randomness in lepture order: colours, per character (space?, font, dx, dy, 7 x U), overlaps, dots, arc', () => {
    const { rng: rec, calls } = recordingRng(2);
    // wordSpaceProbability 1: U > 1 never holds, so no spaces and a fixed number of draws.
    captcha({ wordSpaceProbability: 1 }).generateImage('AB', rec);
    const perChar = ['U', 'b3', 'b5', 'b7', 'U', 'U', 'U', 'U', 'U', 'U', 'U'];
    const head = ['b18', 'b18', 'b18', 'b36', 'b191', 'b191', 'b191', ...perChar, ...perChar];
    assert.deepStrictEqual(calls.slice(0, head.length), head);
    const rest = calls.slice(head.length);
    // 2 overlaps randbelow(rand + 1), 30 dots (x in 0..160, y in 0..60), then x1, x2, y1, y2, end, start
    assert.strictEqual(rest.length, 2 + 60 + 6);
    for (let i = 0; i < 30; i++) assert.deepStrictEqual(rest.slice(2 + 2 * i, 4 + 2 * i), ['b161', 'b61']);
    assert.deepStrictEqual(rest.slice(62, 65), ['b33', 'b33', 'b37']);
    assert.deepStrictEqual(rest.slice(66), ['b41', 'b21']);
  });

  it('draws 0.2.2 in its order: ink 0-200, no space draws, dots and arc across the drawn width', () => {
    for (const [version, text] of [['0.2.2', 'AB'], ['0.2.2-pillow4', 'QWERTY']] as [CaptchaVersion, string][]) {
      const { rng, calls } = recordingRng(4);
      const img = captcha({ version }).generateImage(text, rng, { keepWidth: true });
      const perChar = ['b3', 'b5', 'b7', 'U', 'U', 'U', 'U', 'U', 'U', 'U'];
      const head = ['b18', 'b18', 'b18', 'b36', 'b201', 'b201', 'b201', ...text.split('').flatMap(() => perChar)];
      assert.deepStrictEqual(calls.slice(0, head.length), head, version);
      const rest = calls.slice(head.length + text.length); // after one overlap draw per character
      const W = img.width;
      assert.ok(text.length === 2 ? W === 160 : W > 160, `${version}: ${W} px wide`);
      for (let i = 0; i < 30; i++) assert.deepStrictEqual(rest.slice(2 * i, 2 * i + 2), [`b${W + 1}`, 'b61']);
      const w5 = Math.trunc(W / 5);
      assert.deepStrictEqual(rest.slice(60, 62), [`b${w5 + 1}`, `b${w5 + 1}`], 'arc x1, x2 in the right fifth');
      assert.deepStrictEqual(rest.slice(64), ['b41', 'b21']);
    }
  });

  it("gives 0.2.2 its own defaults: fonts 46/58/68, no spaces, and Pillow's textsize boxes, one px smaller than 0.7's", () => {
    const old = captcha({ version: '0.2.2' });
    assert.deepStrictEqual(old.options.fontSizes, [46, 58, 68]);
    assert.strictEqual(old.options.wordSpaceProbability, 0);
    assert.deepStrictEqual(captcha({ version: '0.2.2-pillow4' }).options.fontSizes, [46, 58, 68]);
    // spec §3.2: textbbox 29x50 / 36x63 / 42x73 (Q deeper) at 46/58/68 px; textsize is one less.
    const atlas = old.glyphAtlas();
    assert.deepStrictEqual(atlas.faces.map((f) => f.size), [46, 58, 68]);
    assert.deepStrictEqual(atlas.faces.map((f) => [f.glyphs.K.boxWidth, f.glyphs.K.boxHeight]), [[29, 50], [36, 63], [42, 73]]);
    assert.deepStrictEqual(atlas.faces.map((f) => f.glyphs.Q.boxHeight), [59, 75, 87]);
  });

  it("follows each version's profile: 0.2.2-pillow4 differs from 0.2.2 only in the resize filter", () => {
    const { resample, ...rest22 } = CAPTCHA_VERSION_PROFILES['0.2.2'];
    const { resample: resample4, ...rest4 } = CAPTCHA_VERSION_PROFILES['0.2.2-pillow4'];
    assert.deepStrictEqual([resample, resample4], ['bicubic', 'nearest']);
    assert.deepStrictEqual(rest4, rest22);
    assert.ok(!same(draw({ version: '0.2.2-pillow4' }, 11), draw({ version: '0.2.2' }, 11)));
  });

  it('gives every character the box of DroidSansMono (spec §3.2) from Noto Mono', () => {
    const atlas = captcha().glyphAtlas();
    assert.deepStrictEqual(atlas.faces.map((f) => f.size), [42, 50, 56]);
    for (const face of atlas.faces) {
      for (const [c, g] of Object.entries(face.glyphs)) {
        let [w, h] = ({ 42: [26, 46], 50: [31, 54], 56: [35, 61] } as Record<number, number[]>)[face.size];
        if (c === 'Q') h = ({ 42: 54, 50: 64, 56: 73 } as Record<number, number>)[face.size];
        else if (face.size === 56 && '035689CGJOSU'.includes(c)) h = 62;
        if (face.size === 42 && c === 'W') w = 27;
        assert.deepStrictEqual([g.boxWidth, g.boxHeight], [w, h], `${face.size} px '${c}'`);
      }
    }
  });

  describe('options', () => {
    const cases: [string, ImageCaptchaOptions][] = [
      ['width', { width: 150 }],
      ['height', { height: 70 }],
      ['fonts', { fonts: [NOTO_SANS_MONO] }],
      ['fontSizes', { fontSizes: [30, 36] }],
      ['version', { version: '0.7.1' }],
      ['version 0.2.2', { version: '0.2.2' }],
      ['characterRotate', { characterRotate: [0, 0] }],
      ['characterWarpDx', { characterWarpDx: [0, 0] }],
      ['characterWarpDy', { characterWarpDy: [0.5, 0.5] }],
      ['wordSpaceProbability', { wordSpaceProbability: 0 }],
      ['wordOffsetDx', { wordOffsetDx: 0 }],
      ['noiseDots', { noiseDots: 0 }],
      ['noiseCurve', { noiseCurve: false }],
    ];
    for (const [name, options] of cases) {
      it(`${name} changes the image`, () => {
        assert.ok(!same(draw(options, 11), draw({}, 11)));
      });
    }

    it('characterOffsetDx/Dy are drawn but invisible, as in lepture', () => {
      assert.ok(same(draw({ characterOffsetDx: [3, 3], characterOffsetDy: [5, 5] }, 11), draw({}, 11)));
    });

    it('bgColor sets the background and fgColor the ink', () => {
      const img = captcha().generateImage('K9P3', createRng(3), { bgColor: [250, 251, 252], fgColor: [200, 10, 10] });
      assert.deepStrictEqual(Array.from(img.data.subarray(0, 3)), [250, 251, 252]); // corner: border, not smoothed
      let reddish = 0;
      let greenish = 0;
      for (let i = 0; i < img.data.length; i += 3) {
        if (img.data[i] - img.data[i + 1] > 100) reddish++;
        if (img.data[i + 1] - img.data[i] > 100) greenish++;
      }
      assert.ok(reddish > 300 && greenish === 0, `${reddish} ${greenish}`);
    });

    it('the alphabet option allows other characters', () => {
      const img = captcha({ alphabet: 'a-z' }).generateImage('xyz', createRng(1));
      assert.strictEqual(img.width, 160);
    });

    it('glyphAtlas makes an identical generator without fonts', () => {
      const twin = new ImageCaptcha({ glyphAtlas: captcha().glyphAtlas() });
      assert.ok(same(twin.generateImage('K9P3', createRng(1)), draw({}, 1)));
    });

    it('has lepture defaults', () => {
      assert.strictEqual(DEFAULT_IMAGE_CAPTCHA_OPTIONS.width, 160);
      assert.deepStrictEqual(DEFAULT_IMAGE_CAPTCHA_OPTIONS.fontSizes, [42, 50, 56]);
      assert.deepStrictEqual(captcha().options.characterWarpDy, [0.2, 0.3]);
      assert.strictEqual(captcha().options.version, '0.7.0');
    });
  });

  describe('bad input', () => {
    const errors: [string, () => unknown, string][] = [
      ['empty text', () => captcha().generateImage('', createRng(1)), `text must be a non-empty string, got ""; pass the characters to draw, e.g. 'K9P3'`],
      [
        'a character outside the alphabet',
        () => captcha().generateImage('AB!C', createRng(1)),
        "text 'AB!C' contains '!', which is not in the alphabet '0-9A-Z'; use only those characters or set the alphabet option",
      ],
      [
        'a character the font cannot draw',
        () => new ImageCaptcha({ alphabet: 'A漢' }),
        "font '/usr/share/fonts/truetype/noto/NotoMono-Regular.ttf' cannot draw '漢' (U+6F22); remove it from the alphabet or pass a font that has it",
      ],
      ['a font size <= 0', () => new ImageCaptcha({ fontSizes: [42, 0] }), 'font size 0 is not a positive number of pixels; use sizes such as 42, 50, 56'],
      ['no font sizes', () => new ImageCaptcha({ fontSizes: [] }), 'fontSizes must list at least one size in px, got []; e.g. [42, 50, 56]'],
      ['width 0', () => new ImageCaptcha({ width: 0 }), 'width must be an integer >= 1, got 0; pass the image width in pixels, e.g. 160'],
      ['height 2.5', () => new ImageCaptcha({ height: 2.5 }), 'height must be an integer >= 1, got 2.5; pass the image height in pixels, e.g. 60'],
      [
        'an unknown version',
        () => new ImageCaptcha({ version: '0.8' as '0.7.0' }),
        `version must be one of '0.7.0', '0.7.1', '0.2.2', '0.2.2-pillow4', got "0.8"`,
      ],
      [
        'spaces with 0.2.2',
        () => new ImageCaptcha({ version: '0.2.2', wordSpaceProbability: 0.5 }),
        "wordSpaceProbability must be 0 with version '0.2.2', which draws no spaces (lepture added them in 0.3), got 0.5; omit it, or use version '0.7.0' for spaces",
      ],
      [
        'a missing font file',
        () => new ImageCaptcha({ fonts: ['/nonexistent/x.ttf'] }),
        "font file '/nonexistent/x.ttf' does not exist; pass the path of a .ttf file (the default needs Debian's fonts-noto-mono)",
      ],
      ['a backwards range', () => new ImageCaptcha({ characterRotate: [30, -30] }), 'characterRotate must be [min, max] with min <= max, got [30,-30]'],
      [
        'a bad colour',
        () => captcha().generateImage('AB', createRng(1), { bgColor: [256, 0, 0] }),
        'bgColor must be [r, g, b] with integers 0-255, got [256,0,0]',
      ],
    ];
    for (const [what, fn, message] of errors) {
      it(`refuses ${what}`, () => assert.throws(fn, { message }));
    }
  });
});

describe('encode and write', () => {
  it('encodes PNG losslessly and JPEG at the right size', async () => {
    const img = draw({}, 21);
    const png = await decodeImageBytes(encode(img, 'png'));
    assert.ok(Buffer.from(png.data).equals(Buffer.from(img.data)));
    const jpg = encode(img, 'jpg');
    assert.deepStrictEqual([jpg[0], jpg[1]], [0xff, 0xd8]);
    const back = await decodeImageBytes(jpg);
    assert.deepStrictEqual([back.width, back.height], [160, 60]);
    let err = 0;
    for (let i = 0; i < img.data.length; i++) err += Math.abs(back.data[i] - img.data[i]);
    assert.ok(err / img.data.length < 6, `mean JPEG error ${err / img.data.length}`);
  });

  it('write() leaves the finished file and no temporary file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'captcha-write-'));
    try {
      captcha().write('K9P3', path.join(dir, 'k.png'), createRng(1));
      assert.deepStrictEqual(fs.readdirSync(dir), ['k.png']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown format', () => {
    assert.throws(() => encode(draw(), 'gif' as 'png'), { message: `image format must be 'png' or 'jpg', got "gif"` });
  });
});
