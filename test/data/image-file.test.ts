import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { createCanvas } from 'canvas';
import { createRng, encode, ImageCaptcha } from '../../src/captcha';
import { decodeImageBytes, decodeImageFile, MAX_IMAGE_PIXELS, MAX_UPSCALE, readImageHeader } from '../../src/data';
import { fileBatches } from '../../src/eval/image-batches';
import { tempDir } from '../helpers';

/** A CAPTCHA as the generator writes it. */
function captchaFile(format: 'png' | 'jpg', seed = 1): Buffer {
  return encode(new ImageCaptcha().generateImage('K9P3', createRng(seed)), format);
}

/** A canvas drawing of some shapes, encoded by node-canvas with `options`. */
function drawing(width: number, height: number, mime: 'image/png' | 'image/jpeg', options: object = {}): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  for (let i = 0; i < 30; i++) {
    ctx.fillStyle = `rgb(${(i * 37) % 255},${(i * 91) % 255},${(i * 13) % 255})`;
    ctx.fillRect((i * 13) % width, (i * 7) % height, 5, 3);
  }
  return mime === 'image/png' ? canvas.toBuffer('image/png') : canvas.toBuffer('image/jpeg', options);
}

/** A PNG of `width` x `height` 1-bit grey pixels, all black: tiny on disk, whatever its size. */
function blackPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1; // bit depth 1, colour type 0 (grey)
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** `bytes` with 64 bytes in the middle overwritten, as a disk or copy error would. */
function overwrittenMiddle(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let k = 0; k < 64; k++) out[(out.length >> 1) + k] = (k * 73) & 0xff;
  return out;
}

describe('image files', () => {
  it('reads format and size from the header, without decoding', () => {
    assert.deepEqual(readImageHeader(captchaFile('png')), { format: 'png', width: 160, height: 60 });
    assert.deepEqual(readImageHeader(captchaFile('jpg')), { format: 'jpg', width: 160, height: 60 });
    assert.deepEqual(readImageHeader(blackPng(20000, 20000)), { format: 'png', width: 20000, height: 20000 });
  });

  it('decodes the JPEG and PNG variants encoders write', async () => {
    const variants: Record<string, Buffer> = {
      'generator png': captchaFile('png'),
      'generator jpg': captchaFile('jpg'),
      'jpg 4:4:4': drawing(37, 13, 'image/jpeg', { chromaSubsampling: false, quality: 0.95 }),
      'jpg progressive': drawing(333, 77, 'image/jpeg', { progressive: true }),
      'jpg quality 10, odd size': drawing(17, 9, 'image/jpeg', { quality: 0.1 }),
      'png odd size': drawing(33, 7, 'image/png'),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const { width, height } = readImageHeader(bytes);
      const img = await decodeImageBytes(bytes, name);
      assert.deepEqual([img.width, img.height, img.data.length], [width, height, width * height * 3], name);
    }
  });

  it('refuses a huge image from its header, before decoding, naming the limit', async () => {
    const png = blackPng(20000, 20000); // decoding would take 1.6 GB
    assert.ok(png.length < 100_000);
    await assert.rejects(decodeImageBytes(png, 'huge.png', { input: { width: 160, height: 60 } }), {
      message:
        `image 'huge.png' is 20000x20000 (400.0 megapixels), more than the ${(MAX_IMAGE_PIXELS / 1e6).toFixed(1)} megapixels (4096x4096) ` +
        'decoded at most; crop or scale it down to the CAPTCHA (the model reads 160x60)',
    });
    await decodeImageBytes(blackPng(4096, 4096), 'largest.png'); // the limit itself is allowed
  });

  it('refuses an image too small for the model to read', async () => {
    const input = { width: 160, height: 60 };
    await assert.rejects(decodeImageBytes(blackPng(1, 1), 'dot.png', { input }), {
      message:
        `image 'dot.png' is 1x1, too small to hold a CAPTCHA: the model reads 160x60 and enlarges images at most ${MAX_UPSCALE}x per side, ` +
        'so it needs at least 40x15; pass the CAPTCHA at its original size',
    });
    await assert.rejects(decodeImageBytes(blackPng(160, 14), 'strip.png', { input }), { message: /is 160x14, too small to hold a CAPTCHA/ });
    await decodeImageBytes(blackPng(40, 15), 'smallest.png', { input });
    await decodeImageBytes(blackPng(1, 1), 'no model'); // without a model input, any size is read
  });

  it('shows transparent pixels on white, as a browser does', async () => {
    const canvas = createCanvas(40, 20);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, 10, 20); // opaque black bar on the left
    ctx.fillStyle = 'rgba(0, 0, 255, 0.5)';
    ctx.fillRect(10, 0, 10, 20); // half-transparent blue
    const img = await decodeImageBytes(canvas.toBuffer('image/png'), 'transparent.png');
    const px = (x: number): number[] => Array.from(img.data.subarray(x * 3, x * 3 + 3));
    assert.deepEqual(px(5), [0, 0, 0]);
    assert.deepEqual(px(30), [255, 255, 255]);
    const [r, g, b] = px(15);
    assert.ok(Math.abs(r - 128) <= 1 && Math.abs(g - 128) <= 1 && b === 255, `half-transparent blue on white: ${[r, g, b]}`);
  });

  describe('refuses damaged files by name', () => {
    const cases: Array<[string, Buffer, RegExp]> = [
      ['a JPEG cut short', captchaFile('jpg').subarray(0, 1200), /^image 'x' is truncated or corrupt: its image data ends after \d+ of 40 blocks; replace it/],
      ['a JPEG without its end marker', captchaFile('jpg').subarray(0, -2), /^image 'x' is truncated: it has no end-of-image marker; /],
      ['a JPEG overwritten in the middle', overwrittenMiddle(captchaFile('jpg')), /^image 'x' is (truncated or )?corrupt: /],
      ['a PNG cut short', captchaFile('png').subarray(0, 1500), /^image 'x' is truncated: it ends inside its "IDAT" chunk; /],
      ['a PNG without IEND', captchaFile('png').subarray(0, -12), /^image 'x' is truncated: it ends before its IEND chunk; /],
      ['a PNG with a changed byte', overwrittenMiddle(captchaFile('png')), /^image 'x' is corrupt: its "IDAT" chunk fails its CRC check; /],
      ['an empty file', Buffer.alloc(0), /^image 'x' cannot be read: it is not a PNG or JPEG \(it starts with nothing: the file is empty\)/],
      ['a GIF', Buffer.from('GIF89a....'), /^image 'x' cannot be read: it is not a PNG or JPEG \(it starts with bytes 47 49 46 38\); convert it to PNG or JPEG$/],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, async () => {
        await assert.rejects(decodeImageBytes(bytes, 'x'), { message });
      });
    }

    it('with the fix its caller gives', async () => {
      await assert.rejects(decodeImageBytes(captchaFile('jpg').subarray(0, -2), 'x', { fix: 'rerun generate' }), { message: /no end-of-image marker; rerun generate$/ });
    });
  });

  it('predict and evaluate (fileBatches) refuse a 1x1 image instead of answering', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const ok = path.join(dir, 'ok.png');
      const dot = path.join(dir, 'dot.png');
      fs.writeFileSync(ok, captchaFile('png'));
      fs.writeFileSync(dot, blackPng(1, 1));
      const input = { width: 160, height: 60, channels: 1 };
      const batches = fileBatches([{ file: ok, label: '' }, { file: dot, label: '' }], input);
      await assert.rejects(batches.next(), { message: new RegExp(`^image '${dot}' is 1x1, too small to hold a CAPTCHA`) });
    } finally {
      cleanup();
    }
  });

  it('names a missing file', async () => {
    await assert.rejects(decodeImageFile('/nonexistent/0.jpg'), { message: "image '/nonexistent/0.jpg' is missing or unreadable (ENOENT); fix the path" });
  });
});
