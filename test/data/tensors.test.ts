import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { letterboxBox, pixelsToTensor, splitPackedImages, type InputShape } from '../../src/data';

const INPUT: InputShape = { height: 60, width: 160, channels: 1 };

/** A white `width` x `height` RGB image with a black `size` x `size` square at (top, left). */
function squareImage(width: number, height: number, size: number, top: number, left: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3).fill(255);
  for (let y = top; y < top + size; y++) rgb.fill(0, (y * width + left) * 3, (y * width + left + size) * 3);
  return rgb;
}

/** Width and height of the dark pixels (< 0.5) of a [1, H, W, 1] tensor. */
function darkBox(x: tf.Tensor4D): { width: number; height: number } {
  const rows = (x.arraySync() as number[][][][])[0].map((row) => row.map((px) => px[0] < 0.5));
  const ys = rows.map((row, y) => (row.some(Boolean) ? y : -1)).filter((y) => y >= 0);
  const xs = rows[0].map((_, c) => (rows.some((row) => row[c]) ? c : -1)).filter((c) => c >= 0);
  return { width: xs[xs.length - 1] - xs[0] + 1, height: ys[ys.length - 1] - ys[0] + 1 };
}

describe('pixelsToTensor: fitting other sizes to the input', () => {
  it('letterbox scales both sides by the largest factor that fits and centres the image', () => {
    assert.deepEqual(letterboxBox(140, 80, INPUT), { width: 105, height: 60, top: 0, left: 27 });
    assert.deepEqual(letterboxBox(170, 60, INPUT), { width: 160, height: 56, top: 2, left: 0 });
    assert.deepEqual(letterboxBox(160, 60, INPUT), { width: 160, height: 60, top: 0, left: 0 });
    assert.deepEqual(letterboxBox(80, 30, INPUT), { width: 160, height: 60, top: 0, left: 0 }, 'small images are enlarged');
  });

  it('letterbox keeps a glyph square where stretch widens it (the 0/O cue)', () => {
    // a 140x80 CAPTCHA with a 40x40 square: to 160x60 its scale is 0.75 both ways when letterboxed,
    // 160/140 = 1.14 wide and 0.75 high when stretched
    const rgb = squareImage(140, 80, 40, 20, 50);
    const letterboxed = pixelsToTensor(rgb, 1, 80, 140, { ...INPUT, fit: 'letterbox' });
    const stretched = pixelsToTensor(rgb, 1, 80, 140, INPUT);
    try {
      const lb = darkBox(letterboxed);
      assert.ok(Math.abs(lb.width - 30) <= 1 && Math.abs(lb.height - 30) <= 1, JSON.stringify(lb));
      const st = darkBox(stretched);
      assert.ok(Math.abs(st.width - 46) <= 1 && Math.abs(st.height - 30) <= 1, JSON.stringify(st));
    } finally {
      letterboxed.dispose();
      stretched.dispose();
    }
  });

  it('letterbox pads with white, outside the scaled image only', () => {
    const black = new Uint8Array(2 * 80 * 140 * 3);
    const x = pixelsToTensor(black, 2, 80, 140, { ...INPUT, fit: 'letterbox' });
    try {
      assert.deepEqual(x.shape, [2, 60, 160, 1]);
      const row = (x.arraySync() as number[][][][])[1][30].map((px) => px[0]);
      assert.deepEqual([row[26], row[27], row[131], row[132]], [1, 0, 0, 1]);
    } finally {
      x.dispose();
    }
  });

  it('leaves an image of the input size as it is, whatever the fit', () => {
    const rgb = squareImage(160, 60, 10, 5, 5);
    const a = pixelsToTensor(rgb, 1, 60, 160, { ...INPUT, fit: 'letterbox' });
    const b = pixelsToTensor(rgb, 1, 60, 160, INPUT);
    try {
      assert.equal(tf.max(tf.abs(tf.sub(a, b))).arraySync(), 0);
      // and both are the image itself: the 10x10 square where it was drawn, white elsewhere
      assert.deepEqual(darkBox(a), { width: 10, height: 10 });
      const pixels = (a.arraySync() as number[][][][])[0];
      assert.deepEqual([pixels[5][5][0], pixels[14][14][0], pixels[4][4][0], pixels[15][15][0]], [0, 0, 1, 1]);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('refuses an unknown fit, naming the known ones', () => {
    assert.throws(
      () => pixelsToTensor(new Uint8Array(3), 1, 1, 1, { ...INPUT, fit: 'crop' as never }),
      /input fit 'crop' is not one of stretch, letterbox/,
    );
  });
});

describe('splitPackedImages', () => {
  it('gives each packed image as its own view of the same bytes', () => {
    const rgb = Uint8Array.from({ length: 2 * 2 * 3 * 3 }, (_, i) => i);
    const [first, second] = splitPackedImages(rgb, 2, 2, 3);
    assert.deepEqual([first.width, first.height, second.width, second.height], [3, 2, 3, 2]);
    assert.deepEqual([...second.data], [...rgb.subarray(18)]);
    assert.equal(second.data.buffer, rgb.buffer);
  });
});
