import { strict as assert } from 'assert';
import { CAPTCHA_VERSIONS } from '../../src/captcha';
import { ISOLATED_GLYPH_CANVAS, drawGlyphAlone, inkSize, isolatedGlyphTensor, isolatedGlyphs, roundGlyphLooks, roundGlyphsInCaptchas } from '../../src/eval/glyph-separability';
import { ZERO_O_CROP } from '../../src/eval/zero-o-reader';
import { useNativeBackend } from '../helpers';

/** Columns and rows of the canvas that hold any ink (a pixel darker than white). */
function inkBox(rgb: Uint8Array, width: number, height: number, index: number): { x0: number; x1: number; y0: number; y1: number } | null {
  let [x0, x1, y0, y1] = [width, -1, height, -1];
  const base = index * width * height * 3;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (rgb[base + (y * width + x) * 3] < 200) [x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)];
    }
  }
  return x1 < 0 ? null : { x0, x1, y0, y1 };
}

describe('isolated glyphs (how separable 0 and O are before any network)', () => {
  before(useNativeBackend);

  it('draws one whole character per image, grey on white, for every version, with both labels', () => {
    for (const version of CAPTCHA_VERSIONS) {
      const batch = isolatedGlyphs({ version, pair: ['0', 'O'] }, 'test', 0, 24);
      const { width, height } = ISOLATED_GLYPH_CANVAS;
      assert.equal(batch.rgb.length, 24 * width * height * 3);
      assert.ok(batch.labels.includes(0) && batch.labels.includes(1), `${version}: both characters drawn`);
      for (let i = 0; i < 24; i++) {
        const box = inkBox(batch.rgb, width, height, i);
        assert.ok(box, `${version} #${i} has ink`);
        // Not cut by the canvas: the ink stays off every edge, and is glyph-sized (no neighbours, no arc).
        assert.ok(box.x0 > 0 && box.y0 > 0 && box.x1 < width - 1 && box.y1 < height - 1, `${version} #${i} ink ${JSON.stringify(box)} touches the edge`);
        assert.ok(box.x1 - box.x0 >= 10 && box.y1 - box.y0 >= 20, `${version} #${i} ink ${JSON.stringify(box)} too small for a glyph`);
      }
    }
  });

  it('is reproducible from its seed and index, and differs between seeds', () => {
    const options = { version: '0.7.0' as const, pair: ['0', 'O'] as const };
    const whole = isolatedGlyphs(options, 7, 0, 6);
    const tail = isolatedGlyphs(options, 7, 3, 3);
    assert.deepEqual(tail.rgb, whole.rgb.subarray(3 * whole.width * whole.height * 3));
    assert.deepEqual(tail.labels, whole.labels.subarray(3));
    assert.notDeepEqual(isolatedGlyphs(options, 8, 0, 6).rgb, whole.rgb);
  });

  it('draws the glyphs upright when asked (rotate [0, 0]): their ink leans less than rotated glyphs\' ink', () => {
    const { width, height } = ISOLATED_GLYPH_CANVAS;
    // How much a glyph's ink leans: |correlation| of the ink pixels' x and y (0 for an upright oval).
    const meanLean = (rotate?: readonly [number, number]) => {
      const batch = isolatedGlyphs({ version: '0.7.1', pair: ['0', 'O'], ...(rotate ? { rotate } : {}) }, 'upright', 0, 48);
      let total = 0;
      for (let i = 0; i < 48; i++) {
        const xs: number[] = [];
        const ys: number[] = [];
        for (let p = 0; p < width * height; p++) {
          if (batch.rgb[(i * width * height + p) * 3] < 200) [xs, ys].forEach((a, k) => a.push(k === 0 ? p % width : Math.floor(p / width)));
        }
        const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
        const [mx, my] = [mean(xs), mean(ys)];
        const cov = mean(xs.map((x, j) => (x - mx) * (ys[j] - my)));
        total += Math.abs(cov) / Math.sqrt(mean(xs.map((x) => (x - mx) ** 2)) * mean(ys.map((y) => (y - my) ** 2)));
      }
      return total / 48;
    };
    const [upright, rotated] = [meanLean([0, 0]), meanLean()];
    assert.ok(upright < rotated / 2, `upright glyphs' ink leans ${upright.toFixed(3)}, rotated ${rotated.toFixed(3)}`);
  });

  it('scales to a model input: 0.75 of 48x80 is 36x60, ink grey, background 1', () => {
    const batch = isolatedGlyphs({ version: '0.2.2', pair: ['0', 'O'] }, 1, 0, 2);
    const x = isolatedGlyphTensor(batch, 0.75);
    assert.deepEqual(x.shape, [2, 60, 36, 1]);
    const values = x.dataSync();
    assert.equal(Math.max(...values), 1);
    assert.ok(Math.min(...values) < 0.6);
    x.dispose();
  });

  it('refuses a pair that is not two different characters, and a bad scale', () => {
    assert.throws(() => isolatedGlyphs({ version: '0.7.1', pair: ['0', '0'] }, 1, 0, 1), /two different characters/);
    assert.throws(() => isolatedGlyphs({ version: '0.7.1', pair: ['0', 'OO'] as unknown as [string, string] }, 1, 0, 1), /two different characters/);
    const batch = isolatedGlyphs({ version: '0.7.1', pair: ['0', 'O'] }, 1, 0, 1);
    assert.throws(() => isolatedGlyphTensor(batch, 0), /scale must be/);
  });
});

describe('round glyphs in CAPTCHAs (the reader\'s window at the true centre)', () => {
  const { width: cw, height: ch } = ZERO_O_CROP;
  /** Columns of window `i` whose ink (crops are ink-high) passes 128, as [first, last], or null. */
  const inkColumns = (crops: Uint8Array, i: number): [number, number] | null => {
    let [x0, x1]: number[] = [cw, -1];
    for (let y = 0; y < ch; y++) {
      for (let x = 0; x < cw; x++) if (crops[i * cw * ch + y * cw + x] > 128) [x0, x1] = [Math.min(x0, x), Math.max(x1, x)];
    }
    return x1 < 0 ? null : [x0, x1];
  };
  const clean = { noiseDots: 0, noiseCurve: false };

  it('centres the window on the glyph: drawn alone and clean, its ink sits in the middle, for every version and both characters', () => {
    for (const version of CAPTCHA_VERSIONS) {
      for (const [width, height] of [[160, 60], [140, 80]]) {
        const n = 40;
        const { crops, labels } = roundGlyphsInCaptchas({ version, width, height, alone: true, options: clean }, 'centre', 0, n);
        assert.equal(crops.length, n * cw * ch);
        assert.ok(labels.includes(0) && labels.includes(1), `${version}: both characters drawn`);
        for (let i = 0; i < n; i++) {
          const ink = inkColumns(crops, i);
          assert.ok(ink, `${version} #${i} has ink`);
          const middle = (ink[0] + ink[1]) / 2;
          assert.ok(Math.abs(middle - cw / 2) <= 4 && ink[0] > 0 && ink[1] < cw - 1, `${version} ${width}x${height} #${i}: ink in columns ${ink}`);
        }
      }
    }
  });

  it('shows the neighbours and the noise when they are drawn', () => {
    const n = 24;
    const edgeInk = (drawing: Parameters<typeof roundGlyphsInCaptchas>[0]) => {
      const { crops } = roundGlyphsInCaptchas(drawing, 'context', 0, n);
      let touching = 0;
      for (let i = 0; i < n; i++) {
        const ink = inkColumns(crops, i);
        if (ink && (ink[0] <= 2 || ink[1] >= cw - 3)) touching++;
      }
      return touching;
    };
    const base = { version: '0.7.1' as const, width: 160, height: 60 };
    assert.equal(edgeInk({ ...base, alone: true, options: clean }), 0);
    assert.ok(edgeInk({ ...base, options: clean }) >= n / 2, 'neighbours reach into the window');
    assert.ok(edgeInk({ ...base, alone: true }) >= 1, 'the arc or the dots reach the window\'s edges');
  });

  it('is reproducible from its seed and index', () => {
    const drawing = { version: '0.2.2' as const, width: 150, height: 70 };
    const whole = roundGlyphsInCaptchas(drawing, 7, 0, 6);
    const tail = roundGlyphsInCaptchas(drawing, 7, 4, 2);
    assert.deepEqual(tail.crops, whole.crops.subarray(4 * cw * ch));
    assert.deepEqual(tail.labels, whole.labels.subarray(4));
    assert.notDeepEqual(roundGlyphsInCaptchas(drawing, 8, 0, 6).crops, whole.crops);
  });

  it('moves the window up to the jitter either side of the glyph, drawing the same CAPTCHAs', () => {
    const drawing = { version: '0.7.1' as const, width: 160, height: 60, alone: true, options: clean };
    const n = 40;
    const still = roundGlyphsInCaptchas(drawing, 'jitter', 0, n);
    assert.deepEqual(roundGlyphsInCaptchas({ ...drawing, jitter: 0 }, 'jitter', 0, n).crops, still.crops);
    const moved = roundGlyphsInCaptchas({ ...drawing, jitter: 3 }, 'jitter', 0, n);
    assert.deepEqual(moved.labels, still.labels);
    const shifts = new Set<number>();
    for (let i = 0; i < n; i++) {
      // The window moving right by d moves the ink left by d.
      const [a, b] = [inkColumns(still.crops, i)!, inkColumns(moved.crops, i)!];
      const d = a[0] - b[0];
      assert.equal(a[1] - b[1], d, `#${i}: the ink keeps its width (${a} against ${b})`);
      assert.ok(Math.abs(d) <= 3, `#${i}: moved ${d} px`);
      shifts.add(d);
    }
    assert.ok(shifts.size >= 4, `the shifts vary: ${[...shifts]}`);
    assert.throws(() => roundGlyphsInCaptchas({ ...drawing, jitter: 1.5 }, 'jitter', 0, 1), /jitter must be a whole number of px >= 0, got 1.5/);
  });

  it('draws in the colours given, which lepture then does not draw (so the windows differ)', () => {
    const grey = { version: '0.7.1' as const, width: 160, height: 60, alone: true, options: clean, colors: { bgColor: [255, 255, 255] as const, fgColor: [130, 130, 130, 255] as const } };
    const { crops } = roundGlyphsInCaptchas(grey, 'colours', 0, 8);
    assert.deepEqual(roundGlyphsInCaptchas(grey, 'colours', 0, 8).crops, crops);
    assert.notDeepEqual(roundGlyphsInCaptchas({ ...grey, colors: undefined }, 'colours', 0, 8).crops, crops);
  });
});

describe('how lepture draws 0 and O (roundGlyphLooks)', () => {
  it("draws the font's O wider than its 0, and lepture's upright 0 and O the same size, larger than the font's", () => {
    for (const version of ['0.7.1', '0.2.2-pillow4'] as const) {
      const looks = roundGlyphLooks(version, version === '0.7.1' ? 42 : undefined);
      assert.deepEqual(looks.map((g) => `${g.look} ${g.char}`), ['font 0', 'font O', 'lepture 0', 'lepture O']);
      const [font0, fontO, drawn0, drawnO] = looks.map((g) => g.ink);
      assert.ok(fontO.width > font0.width && fontO.height === font0.height, `${version}: the font's 0 ${JSON.stringify(font0)}, O ${JSON.stringify(fontO)}`);
      assert.deepEqual(drawn0, drawnO);
      assert.ok(drawn0.width > fontO.width && drawn0.height > fontO.height, `${version}: lepture's glyph ${JSON.stringify(drawn0)} fills the character box`);
    }
  });

  it('draws a glyph alone with the version\'s rotation unless upright, and measures no ink as 0 x 0', () => {
    const leaning = [0, 1, 2, 3].filter((seed) => inkSize(drawGlyphAlone('0.7.0', 50, 'O', seed).image).width !== inkSize(drawGlyphAlone('0.7.0', 50, 'O', seed, true).image).width);
    assert.ok(leaning.length >= 3, 'rotated and warped glyphs come out another width');
    // Upright, the glyph fills its character box (the draws say which); one too large for the canvas is refused.
    const { image, glyph } = drawGlyphAlone('0.2.2', 68, '0', 1, true);
    assert.deepEqual(inkSize(image), { width: glyph.width, height: glyph.height });
    assert.throws(() => drawGlyphAlone('0.7.1', 90, 'W', 1), /a 90-px 'W' has a \d+ x \d+ box, larger than the 64 x 90 canvas/);
    assert.deepEqual(inkSize({ width: 3, height: 2, data: new Uint8Array(18).fill(255) }), { width: 0, height: 0 });
  });
});
