import * as assert from 'assert';
import { pillow, type RgbImage, type RgbaImage } from '../../src/captcha';

const rgb = (width: number, height: number, fill: (x: number, y: number, c: number) => number): RgbImage => {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = fill(x, y, c);
  return { width, height, data };
};
const rgba = (width: number, height: number, fill: (x: number, y: number, c: number) => number): RgbaImage => {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 4; c++) data[(y * width + x) * 4 + c] = fill(x, y, c);
  return { width, height, data };
};
/** Pixels set to (1, 2, 3) by a drawing call on a black image, as "x,y" strings. */
const painted = (img: RgbImage): string[] => {
  const out: string[] = [];
  for (let i = 0; i < img.width * img.height; i++) if (img.data[i * 3] === 1) out.push(`${i % img.width},${Math.floor(i / img.width)}`);
  return out;
};

describe('Pillow primitives', () => {
  describe('bicubic resize', () => {
    it('keeps a constant RGB image constant, up and down', () => {
      const img = rgb(37, 9, (_x, _y, c) => [244, 239, 251][c]);
      for (const [w, h] of [[160, 9], [20, 9], [37, 30], [11, 4]]) {
        const out = pillow.resizeRgb(img, w, h);
        assert.strictEqual(out.data.length, w * h * 3);
        for (let i = 0; i < out.data.length; i++) assert.strictEqual(out.data[i], [244, 239, 251][i % 3]);
      }
    });

    it('is a plain copy at the same size', () => {
      const img = rgba(5, 4, (x, y, c) => (x * 31 + y * 7 + c * 50) % 256);
      const out = pillow.resizeRgba(img, 5, 4);
      assert.deepStrictEqual(out.data, img.data);
      assert.notStrictEqual(out.data, img.data);
    });

    it('keeps a transparent image transparent and an opaque constant colour exact', () => {
      const clear = pillow.resizeRgba(rgba(6, 6, () => 0), 9, 4);
      assert.ok(clear.data.every((v) => v === 0));
      const ink = pillow.resizeRgba(rgba(6, 6, (_x, _y, c) => [90, 20, 150, 255][c]), 9, 4);
      for (let i = 0; i < ink.data.length; i++) assert.strictEqual(ink.data[i], [90, 20, 150, 255][i % 4]);
    });

    it('weights the taps with the a = -0.5 cubic and clips the overshoot', () => {
      // 4 -> 8 px of [0, 0, 255, 255]. Output 3: centre 1.75, taps 0..3 weigh -0.0703, 0.8672,
      // 0.2266, -0.0234 -> 255 x 0.2031 = 51.8 -> 52. Output 4 mirrors it: 255 x 0.7969 -> 203.
      // Output 5 has taps 1..3 only, renormalised: 255 x 1.0687 -> clipped to 255.
      const out = pillow.resizeRgb(rgb(4, 1, (x) => (x < 2 ? 0 : 255)), 8, 1);
      assert.deepStrictEqual(Array.from(out.data.filter((_, i) => i % 3 === 0)), [0, 0, 0, 52, 203, 255, 255, 255]);
    });
  });

  describe('nearest resize (Pillow 4 default)', () => {
    it('copies the source pixel under each output pixel centre', () => {
      const img = rgb(5, 1, (x) => 10 * (x + 1));
      // centres (x + 0.5) * 5/3 = 0.83, 2.5, 4.17 -> columns 0, 2, 4; doubling repeats each column
      assert.deepStrictEqual(Array.from(pillow.resizeRgb(img, 3, 1, 'nearest').data.filter((_, i) => i % 3 === 0)), [10, 30, 50]);
      const up = pillow.resizeRgb(rgb(2, 2, (x, y) => 1 + x + 2 * y), 4, 4, 'nearest');
      assert.deepStrictEqual(Array.from(up.data.filter((_, i) => i % 3 === 0)), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    });

    it('keeps RGBA pixels as they are, where bicubic works premultiplied', () => {
      // a faint pixel's colour survives; bicubic would blend it with the transparent black around it
      const img = rgba(3, 3, (x, y, c) => (x === 1 && y === 1 ? [200, 100, 50, 3][c] : 0));
      const out = pillow.resizeRgba(img, 6, 6, 'nearest');
      assert.deepStrictEqual(Array.from(out.data.subarray((2 * 6 + 2) * 4, (2 * 6 + 2) * 4 + 4)), [200, 100, 50, 3]);
      const colours = new Set<string>();
      for (let i = 0; i < out.data.length; i += 4) colours.add(out.data.subarray(i, i + 4).join());
      assert.deepStrictEqual([...colours].sort(), ['0,0,0,0', '200,100,50,3']);
    });

    it('is a plain copy at the same size', () => {
      const img = rgba(5, 4, (x, y, c) => (x * 31 + y * 7 + c * 50) % 256);
      const out = pillow.resizeRgba(img, 5, 4, 'nearest');
      assert.deepStrictEqual(out.data, img.data);
      assert.notStrictEqual(out.data, img.data);
    });
  });

  describe('rotate (BILINEAR, expand)', () => {
    it('returns an identical copy for 0 degrees', () => {
      const img = rgba(3, 2, (x, y, c) => 10 * x + 40 * y + c);
      assert.deepStrictEqual(pillow.rotateExpand(img, 0).data, img.data);
      assert.deepStrictEqual(pillow.rotateExpand(img, 360).data, img.data);
    });

    it('turns a quarter counter-clockwise for 90 degrees, swapping width and height', () => {
      const img = rgba(3, 2, (x, y, c) => (c === 3 ? 255 : 10 * x + 100 * y));
      const out = pillow.rotateExpand(img, 90);
      assert.deepStrictEqual([out.width, out.height], [2, 3]);
      // the top-right source pixel (2, 0) lands at the top-left
      assert.strictEqual(out.data[0], 20);
      assert.strictEqual(out.data[(2 * 2 + 0) * 4], 0); // source (0, 0) ends bottom-left
    });

    it('grows the canvas to hold the rotated corners', () => {
      const out = pillow.rotateExpand(rgba(20, 30, () => 255), 30);
      // ceil(max) - floor(min) of the rotated corners, around the centre (10, 15):
      // x: 10 +- (10cos30 + 15sin30) = -6.16 .. 26.16 -> 27 - (-7) = 34
      // y: 15 +- (10sin30 + 15cos30) = -2.99 .. 32.99 -> 33 - (-3) = 36 (not round(35.98))
      assert.deepStrictEqual([out.width, out.height], [34, 36]);
    });
  });

  describe('QUAD transform (NEAREST)', () => {
    it('is the identity for the corners of the image itself', () => {
      const img = rgba(7, 5, (x, y, c) => (x * 13 + y * 29 + c * 61) % 256);
      const out = pillow.transformQuad(img, 7, 5, [0, 0, 0, 5, 7, 5, 7, 0]);
      assert.deepStrictEqual(out.data, img.data);
    });

    it('leaves pixels mapped from outside the source transparent', () => {
      const img = rgba(4, 4, () => 255);
      const out = pillow.transformQuad(img, 4, 4, [-4, 0, -4, 4, 4, 4, 4, 0]); // left half reads x < 0
      assert.strictEqual(out.data[3], 0);
      assert.strictEqual(out.data[3 * 4 + 3], 255);
    });
  });

  describe('warpGlyph', () => {
    it('gives the bytes of rotate, resize and QUAD called one after the other', () => {
      let seed = 7;
      const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
      for (let t = 0; t < 60; t++) {
        const gw = 5 + rnd(25);
        const gh = 5 + rnd(35);
        const ink = [rnd(191) + 10, rnd(191) + 10, rnd(191) + 10];
        const img = rgba(gw, gh, (_x, _y, c) => (c < 3 ? ink[c] : 0));
        for (let i = 0; i < gw * gh; i++) {
          const m = [0, 0, 255, rnd(256)][rnd(4)];
          if (m === 0) img.data.fill(0, i * 4, i * 4 + 4);
          else img.data[i * 4 + 3] = pillow.div255(m * (220 + rnd(36)));
        }
        const angle = t === 0 ? 0 : t === 1 ? 90 : -30 + rnd(6000) / 100;
        const [w, h] = [20 + rnd(16), 40 + rnd(34)];
        const [x1, y1, x2, y2] = [rnd(21) - 10, rnd(37) - 18, rnd(21) - 10, rnd(37) - 18];
        const [w2, h2] = [w + Math.abs(x1) + Math.abs(x2), h + Math.abs(y1) + Math.abs(y2)];
        const quad = [x1, y1, -x1, h2 - y2, w2 + x2, h2 + y2, w2 - x2, -y1];
        const expected = pillow.transformQuad(pillow.resizeRgba(pillow.rotateExpand(img, angle), w2, h2), w, h, quad);
        assert.deepStrictEqual(pillow.warpGlyph(img, angle, w2, h2, w, h, quad).data, expected.data, `case ${t}`);
      }
    });
  });

  describe('SMOOTH', () => {
    /** Pillow's ImagingFilter3x3 in float32, operation by operation. */
    const smoothFloat32 = (img: RgbImage): Uint8Array => {
      const f = Math.fround;
      const k1 = f(f(1) / f(13));
      const k5 = f(f(5) / f(13));
      const { width: w, height: h, data: s } = img;
      const out = s.slice();
      const px = (x: number, y: number, c: number): number => s[(y * w + x) * 3 + c];
      for (let y = 1; y < h - 1; y++) {
        for (let x = 1; x < w - 1; x++) {
          for (let c = 0; c < 3; c++) {
            const row = (yy: number, kc: number): number =>
              f(f(f(px(x - 1, yy, c) * k1) + f(px(x, yy, c) * kc)) + f(px(x + 1, yy, c) * k1));
            let ss = f(0.5);
            ss = f(ss + row(y + 1, k1));
            ss = f(ss + row(y, k5));
            ss = f(ss + row(y - 1, k1));
            out[(y * w + x) * 3 + c] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
          }
        }
      }
      return out;
    };

    it("equals Pillow's float32 arithmetic (the integer form is exact)", () => {
      let seed = 3;
      const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255;
      const kinds = [() => rnd(), () => (rnd() > 128 ? 255 : rnd() & 7), () => 250 + (rnd() % 6), () => (rnd() & 1) * 255];
      for (const kind of kinds) {
        const img = rgb(64, 40, () => kind());
        assert.deepStrictEqual(pillow.smooth(img).data, smoothFloat32(img));
      }
      // every centre value against every uniform neighbourhood
      const all = rgb(3 * 256, 3 * 256, (x, y) => (x % 3 === 1 && y % 3 === 1 ? Math.floor(x / 3) : Math.floor(y / 3)));
      assert.deepStrictEqual(pillow.smooth(all).data, smoothFloat32(all));
    });


    it('copies the 1-pixel border and blurs the inside with 1/13 and 5/13 weights', () => {
      const img = rgb(5, 4, (x, y) => (x === 2 && y === 1 ? 130 : 0));
      const out = pillow.smooth(img);
      for (let x = 0; x < 5; x++) {
        assert.strictEqual(out.data[x * 3], img.data[x * 3]); // top row
        assert.strictEqual(out.data[(3 * 5 + x) * 3], img.data[(3 * 5 + x) * 3]); // bottom row
      }
      assert.strictEqual(out.data[(1 * 5 + 2) * 3], 50); // 130 * 5/13 + 0.5, truncated
      assert.strictEqual(out.data[(2 * 5 + 1) * 3], 10); // 130 / 13 + 0.5
    });

    it('maps a flat area to the same value', () => {
      const out = pillow.smooth(rgb(6, 6, (_x, _y, c) => [250, 3, 128][c]));
      for (let i = 0; i < out.data.length; i++) assert.strictEqual(out.data[i], [250, 3, 128][i % 3]);
    });
  });

  describe('paste with the luma mask', () => {
    it('blends by min(255, 1.97 x luma) of the source colour and ignores alpha', () => {
      const dst = rgb(2, 1, () => 200);
      // luma(60, 60, 60) = 60 -> mask int(60 * 1.97) = 118; alpha 0 does not matter
      const src = rgba(2, 1, (x, _y, c) => (c === 3 ? 0 : x === 0 ? 60 : 0));
      pillow.pasteLumaMask(dst, src, 0, 0);
      assert.strictEqual(dst.data[0], pillow.div255(200 * (255 - 118) + 60 * 118));
      assert.strictEqual(dst.data[3], 200); // black source: mask 0, untouched
    });

    it("has lepture 0.2.2's float table as Pillow 9.4 rounds it: Python's round, halves to even, clipped", () => {
      const t = pillow.LUMA_MASK_LUT_ROUNDED;
      assert.deepStrictEqual([t[0], t[1], t[2], t[50], t[51], t[129], t[130], t[255]], [0, 2, 4, 98, 100, 254, 255, 255]);
      // int(i * 1.97) of 0.4+ truncates instead: 1.97 -> 1, 98.5 -> 98, 100.47 -> 100
      assert.deepStrictEqual([pillow.LUMA_MASK_LUT[1], pillow.LUMA_MASK_LUT[50], pillow.LUMA_MASK_LUT[51]], [1, 98, 100]);
    });

    it('clips at negative offsets and the far edges', () => {
      const dst = rgb(3, 3, () => 0);
      pillow.pasteLumaMask(dst, rgba(3, 3, () => 255), -2, 2);
      assert.deepStrictEqual(painted({ ...dst, data: dst.data.map((v) => (v === 255 ? 1 : 0)) }), ['0,2']);
    });
  });

  describe('noise dot', () => {
    it('covers the 8 pixels of a 3-px line from (x, y) to (x - 1, y - 1)', () => {
      const img = rgb(6, 6, () => 0);
      pillow.drawNoiseDot(img, 3, 3, 1, 2, 3);
      assert.deepStrictEqual(painted(img).sort(), ['1,3', '2,2', '2,3', '2,4', '3,1', '3,2', '3,3', '4,2'].sort());
    });
  });

  describe('arc', () => {
    it('draws the lower half of the inscribed ellipse for 0 to 180 degrees', () => {
      const img = rgb(11, 11, () => 0);
      pillow.drawArc(img, [0, 0, 10, 10], 0, 180, 1, 2, 3);
      const px = painted(img);
      assert.ok(px.includes('5,10'), 'bottom point');
      assert.ok(px.includes('0,5') && px.includes('10,5'), 'left and right ends');
      assert.ok(!px.includes('5,0'), 'no top point');
      assert.ok(px.every((p) => Number(p.split(',')[1]) >= 5));
    });

    it('draws nothing for equal angles and a full ellipse for 360', () => {
      const none = rgb(11, 11, () => 0);
      pillow.drawArc(none, [0, 0, 10, 10], 30, 30, 1, 2, 3);
      assert.strictEqual(painted(none).length, 0);
      const full = rgb(11, 11, () => 0);
      pillow.drawArc(full, [0, 0, 10, 10], 0, 360, 1, 2, 3);
      const px = painted(full);
      assert.ok(['5,0', '5,10', '0,5', '10,5'].every((p) => px.includes(p)));
    });
  });
});
