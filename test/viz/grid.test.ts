import { strict as assert } from 'assert';
import { createCanvas, loadImage } from 'canvas';
import { gridLayout, misreadGridItems, pngSize, predictionGridItems, renderGrid, roundGlyphLookItems } from '../../src/viz';

function solid(width: number, height: number, rgb: [number, number, number]) {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return { width, height, data };
}

function pngOf(width: number, height: number): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#00f';
  ctx.fillRect(0, 0, width, height);
  return canvas.toBuffer('image/png');
}

describe('image grid', () => {
  it('lays out slots of image plus captions plus padding, row by row', () => {
    const layout = gridLayout(5, { width: 20, height: 10 }, 2, { columns: 4, fontSize: 10, padding: 2 });
    assert.equal(layout.rows, 2);
    assert.equal(layout.lineHeight, 13);
    assert.equal(layout.width, 4 * (20 + 4));
    assert.equal(layout.height, 2 * (10 + 2 * 13 + 4));
  });

  it('never makes more columns than images', () => {
    assert.equal(gridLayout(2, { width: 20, height: 10 }, 1, { columns: 4 }).columns, 2);
  });

  it('renders a PNG of exactly the laid-out size', async () => {
    const items = [0, 1, 2].map((i) => ({ image: solid(20, 10, [i * 80, 0, 0]), caption: ['AB12'] }));
    const png = await renderGrid(items, { columns: 2, fontSize: 10, padding: 2 });
    assert.deepEqual(pngSize(png), { width: 2 * 24, height: 2 * (10 + 13 + 4) });
  });

  it('draws the pixels of each image into its cell and highlights misreads in red', async () => {
    const items = [
      { image: solid(20, 10, [0, 255, 0]), caption: ['x'] },
      { image: pngOf(20, 10), caption: ['y'], highlight: true },
    ];
    const png = await renderGrid(items, { columns: 2, fontSize: 10, padding: 4 });
    const img = await loadImage(png);
    const canvas = createCanvas(img.width, img.height);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const at = (x: number, y: number) => [...ctx.getImageData(x, y, 1, 1).data.slice(0, 3)];
    assert.deepEqual(at(4 + 10, 4 + 5), [0, 255, 0]);
    assert.deepEqual(at(28 + 4 + 10, 4 + 5), [0, 0, 255]);
    assert.deepEqual(at(28 + 4 - 1, 4 + 5), [214, 39, 40]); // the frame, just left of the image
    assert.deepEqual(at(4 - 1, 4 + 5), [255, 255, 255]); // no frame without highlight
  });

  it('refuses an empty list and RGB data of the wrong size', async () => {
    await assert.rejects(renderGrid([]), /the grid needs at least one image/);
    await assert.rejects(renderGrid([{ image: { width: 2, height: 2, data: new Uint8Array(3) }, caption: [] }]), /needs 12 bytes, got 3/);
  });

  it('captions predictions with true and predicted text, highlighting only misreads', () => {
    const items = predictionGridItems(['a.png', 'b.png'], ['K9P3', 'AB12'], ['K9P3', 'A812']);
    assert.deepEqual(items[0].caption, ['true: K9P3', 'predict: K9P3']);
    assert.equal(items[0].highlight, false);
    assert.equal(items[1].highlight, true);
    assert.equal(predictionGridItems(['a.png', 'b.png'], ['K9P3', 'AB12'], ['K9P3', 'A812'], 1).length, 1);
    assert.throws(() => predictionGridItems(['a.png'], ['K9P3', 'AB12'], ['K9P3']), /1 images, 2 true texts and 1 predictions/);
  });

  it('marks the wrong positions of misreads under the prediction', () => {
    const items = misreadGridItems(['a.png', 'b.png'], [{ index: 1, actual: 'AB12', predicted: 'A812' }]);
    assert.equal(items[0].image, 'b.png');
    assert.deepEqual(items[0].caption, ['true: AB12', 'predict: A812', '          ^  ']);
    assert.throws(() => misreadGridItems(['a.png'], [{ index: 3, actual: 'A', predicted: 'B' }]), /misread index 3 is outside the 1 images/);
  });

  it('captions 0 and O looks with the characters in words and the size of their ink', () => {
    const image = { width: 1, height: 1, data: new Uint8Array(3) };
    const items = roundGlyphLookItems([
      { version: '0.7.1', char: '0', look: 'font', image, ink: { width: 26, height: 42 } },
      { version: '0.7.1', char: 'O', look: 'lepture', image, ink: { width: 35, height: 62 } },
    ]);
    assert.deepEqual(items.map((i) => i.caption), [['0.7.1 font', 'digit 0, 26 x 42'], ['0.7.1 lepture', 'letter O, 35 x 62']]);
  });
});
