/**
 * The Pillow 9.4 image primitives lepture/captcha calls, on plain byte buffers, in Pillow's own
 * integer and float arithmetic (see ../shared/reference/lepture-captcha-spec.md §4). Canvas
 * compositing is not used: Cairo stores premultiplied pixels and filters differently, which would
 * change the glyph edges, the paste mask and therefore the look.
 *
 * RGB images hold 3 bytes per pixel, RGBA images 4 (straight, not premultiplied, alpha), row-major.
 */
import { arcSpans } from './arc';

/** An 8-bit RGB image, 3 bytes per pixel, row-major: `data.length === width * height * 3`. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** An 8-bit RGBA image with straight alpha, 4 bytes per pixel, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Rounded a/255 in integers (Pillow DIV255). */
export function div255(a: number): number {
  const t = a + 128;
  return ((t >> 8) + t) >> 8;
}

/** Pillow MULDIV255. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

/** MULDIV255(c, a) at [a << 8 | c]: premultiplication (Pillow `rgbA2rgba`). */
const PREMUL = new Uint8Array(65536).map((_, i) => mulDiv255(i & 255, i >> 8));
/** min(255, floor(255 c / a)), or c for a in {0, 255}, at [a << 8 | c] (Pillow `rgba2rgbA`). */
const UNPREMUL = new Uint8Array(65536).map((_, i) => {
  const a = i >> 8;
  const c = i & 255;
  return a === 0 || a === 255 ? c : Math.min(255, Math.floor((255 * c) / a));
});

/** RGBA -> RGBa in place. */
function premultiply(d: Uint8Array): void {
  for (let i = 0; i < d.length; i += 4) {
    const a = d[i + 3];
    if (a === 255) continue;
    const k = a << 8;
    d[i] = PREMUL[k | d[i]];
    d[i + 1] = PREMUL[k | d[i + 1]];
    d[i + 2] = PREMUL[k | d[i + 2]];
  }
}

/** RGBa -> RGBA in place. */
function unpremultiply(d: Uint8Array): void {
  for (let i = 0; i < d.length; i += 4) {
    const a = d[i + 3];
    if (a === 255 || a === 0) continue;
    const k = a << 8;
    d[i] = UNPREMUL[k | d[i]];
    d[i + 1] = UNPREMUL[k | d[i + 1]];
    d[i + 2] = UNPREMUL[k | d[i + 2]];
  }
}

/** RGBa -> RGBA -> RGBa in place: what Pillow's rotate-then-resize does between the two filters. */
function repremultiply(d: Uint8Array): void {
  for (let i = 0; i < d.length; i += 4) {
    const a = d[i + 3];
    if (a === 255 || a === 0) continue;
    const k = a << 8;
    d[i] = PREMUL[k | UNPREMUL[k | d[i]]];
    d[i + 1] = PREMUL[k | UNPREMUL[k | d[i + 1]]];
    d[i + 2] = PREMUL[k | UNPREMUL[k | d[i + 2]]];
  }
}

/** `Image.getbbox()` of an RGBA image: `[x0, y0, x1, y1)` of the pixels with alpha != 0, or null. */
export function alphaBBox(img: RgbaImage): [number, number, number, number] | null {
  const { width: w, height: h, data: d } = img;
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    const row = y * w * 4 + 3;
    for (let x = 0; x < w; x++) {
      if (d[row + x * 4] !== 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        y1 = y;
      }
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 + 1, y1 + 1];
}

/** `Image.crop(box)` for a box inside the image. */
export function crop(img: RgbaImage, [x0, y0, x1, y1]: readonly [number, number, number, number]): RgbaImage {
  const w = x1 - x0;
  const h = y1 - y0;
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const s = ((y0 + y) * img.width + x0) * 4;
    out.set(img.data.subarray(s, s + w * 4), y * w * 4);
  }
  return { width: w, height: h, data: out };
}

/** Pillow's ROTATE_90 / ROTATE_180 / ROTATE_270 transposes (counter-clockwise quarter turns). */
function quarterTurn(img: RgbaImage, turns: 1 | 2 | 3): RgbaImage {
  const { width: w, height: h, data: d } = img;
  const ow = turns === 2 ? w : h;
  const oh = turns === 2 ? h : w;
  const out = new Uint8Array(d.length);
  const o32 = new Uint32Array(out.buffer);
  const i32 = new Uint32Array(d.buffer, d.byteOffset, w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let ox: number;
      let oy: number;
      if (turns === 1) {
        ox = y;
        oy = w - 1 - x;
      } else if (turns === 2) {
        ox = w - 1 - x;
        oy = h - 1 - y;
      } else {
        ox = h - 1 - y;
        oy = x;
      }
      o32[oy * ow + ox] = i32[y * w + x];
    }
  }
  return { width: ow, height: oh, data: out };
}

/** Python `round(x, 15)`. */
function round15(x: number): number {
  return Number(x.toFixed(15));
}

/** Python `angle % 360.0` (floored: the result has the sign of 360). */
function normalizeAngle(angle: number): number {
  angle = angle % 360;
  return angle < 0 ? angle + 360 : angle;
}

/** The angles Pillow's rotate handles by copying or transposing instead of filtering. */
function exactTurn(img: RgbaImage, angle: number): RgbaImage | null {
  if (angle === 0) return { width: img.width, height: img.height, data: img.data.slice() };
  if (angle === 180) return quarterTurn(img, 2);
  if (angle === 90) return quarterTurn(img, 1);
  if (angle === 270) return quarterTurn(img, 3);
  return null;
}

/**
 * The filtering part of rotate: premultiplied RGBA in, premultiplied RGBA out (`angle` already
 * normalised and not a multiple of 90).
 */
function rotatePremultiplied(src: Uint8Array, w: number, h: number, angle: number): RgbaImage {
  const cx = w / 2.0;
  const cy = h / 2.0;
  const rad = -(angle * (Math.PI / 180));
  const m = [round15(Math.cos(rad)), round15(Math.sin(rad)), 0.0, round15(-Math.sin(rad)), round15(Math.cos(rad)), 0.0];
  const tx = (x: number, y: number): number => m[0] * x + m[1] * y + m[2];
  const ty = (x: number, y: number): number => m[3] * x + m[4] * y + m[5];
  let t2 = tx(-cx, -cy);
  let t5 = ty(-cx, -cy);
  m[2] = t2 + cx;
  m[5] = t5 + cy;
  const xs = [tx(0, 0), tx(w, 0), tx(w, h), tx(0, h)];
  const ys = [ty(0, 0), ty(w, 0), ty(w, h), ty(0, h)];
  const nw = Math.ceil(Math.max(...xs)) - Math.floor(Math.min(...xs));
  const nh = Math.ceil(Math.max(...ys)) - Math.floor(Math.min(...ys));
  t2 = tx(-(nw - w) / 2.0, -(nh - h) / 2.0);
  t5 = ty(-(nw - w) / 2.0, -(nh - h) / 2.0);
  m[2] = t2;
  m[5] = t5;

  const out = new Uint8Array(nw * nh * 4);
  const [a0, a1, a2, a3, a4, a5] = m;
  const stride = w * 4;
  for (let y = 0; y < nh; y++) {
    const yc = y + 0.5;
    for (let x = 0; x < nw; x++) {
      const xc = x + 0.5;
      let xin = a0 * xc + a1 * yc + a2;
      let yin = a3 * xc + a4 * yc + a5;
      if (xin < 0.0 || xin >= w || yin < 0.0 || yin >= h) continue;
      xin -= 0.5;
      yin -= 0.5;
      const xf = Math.floor(xin);
      const yf = Math.floor(yin);
      const dx = xin - xf;
      const dy = yin - yf;
      const xa = (xf < 0 ? 0 : xf < w ? xf : w - 1) * 4;
      const xb = (xf + 1 < 0 ? 0 : xf + 1 < w ? xf + 1 : w - 1) * 4;
      const ra = (yf < 0 ? 0 : yf < h ? yf : h - 1) * stride;
      const rb = yf + 1 >= 0 && yf + 1 < h ? (yf + 1) * stride : ra;
      const pa = ra + xa;
      const pb = ra + xb;
      const qa = rb + xa;
      const qb = rb + xb;
      // Premultiplied: four transparent neighbours are all zeros and give zeros.
      if ((src[pa + 3] | src[pb + 3] | src[qa + 3] | src[qb + 3]) === 0) continue;
      const o = (y * nw + x) * 4;
      // v2 is read from row yf+1 when it exists, else it equals v1 (rb = ra gives exactly that).
      for (let c = 0; c < 4; c++) {
        const p = src[pa + c];
        const v1 = p + (src[pb + c] - p) * dx;
        const q = src[qa + c];
        const v2 = q + (src[qb + c] - q) * dx;
        out[o + c] = v1 + (v2 - v1) * dy; // Uint8Array store truncates like (UINT8) for 0..255
      }
    }
  }
  return { width: nw, height: nh, data: out };
}

/**
 * `Image.rotate(angle, BILINEAR, expand=True)` of an RGBA image: degrees, counter-clockwise,
 * computed premultiplied, sampled at pixel centres, truncated (spec §4.3).
 */
export function rotateExpand(img: RgbaImage, angle: number): RgbaImage {
  angle = normalizeAngle(angle);
  const turned = exactTurn(img, angle);
  if (turned) return turned;
  const src = img.data.slice();
  premultiply(src);
  const out = rotatePremultiplied(src, img.width, img.height, angle);
  unpremultiply(out.data);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Bicubic resampling (Pillow Resample.c, 8 bpc, 22-bit fixed point)

interface Coeffs {
  ksize: number;
  /** xmin, count per output index */
  bounds: Int32Array;
  kk: Int32Array;
}

const PRECISION_BITS = 22;
const coeffCache = new Map<number, Coeffs>();

function bicubic(x: number): number {
  const a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

function coefficients(inSize: number, outSize: number): Coeffs {
  const key = inSize * 65536 + outSize;
  const hit = coeffCache.get(key);
  if (hit) return hit;
  const scale = inSize / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = 2.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = 0 + (xx + 0.5) * scale;
    let ww = 0.0;
    const ss = 1.0 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    for (let x = 0; x < xmax; x++) {
      const wv = bicubic((x + xmin - center + 0.5) * ss);
      k[x] = wv;
      ww += wv;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0.0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const c = { ksize, bounds, kk };
  if (coeffCache.size > 4096) coeffCache.clear();
  coeffCache.set(key, c);
  return c;
}

function clip8(v: number): number {
  if (v >= 1 << (PRECISION_BITS + 8)) return 255;
  if (v <= 0) return 0;
  return v >> PRECISION_BITS;
}

/**
 * Nonzero span of each row of premultiplied RGBA bytes: `[first, last]` pixel with alpha != 0,
 * or first > last for an empty row. A transparent premultiplied pixel is all zeros, and zeros add
 * nothing to the fixed-point sums, so the passes below skip them: same bytes, much less work on
 * glyph images that are mostly transparent.
 */
function rowSpans(d: Uint8Array, w: number, rows: number): Int32Array {
  const spans = new Int32Array(rows * 2);
  for (let y = 0; y < rows; y++) {
    const base = y * w * 4 + 3;
    let l = 0;
    while (l < w && d[base + l * 4] === 0) l++;
    let r = w - 1;
    while (r > l && d[base + r * 4] === 0) r--;
    spans[y * 2] = l;
    spans[y * 2 + 1] = l < w ? r : -1;
  }
  return spans;
}

const HALF = 1 << (PRECISION_BITS - 1);

/** Horizontal pass over rows `[yFirst, yFirst + rows)` (Pillow ImagingResampleHorizontal_8bpc). */
function horizontalPass(src: Uint8Array, ch: number, inW: number, outW: number, yFirst: number, rows: number, c: Coeffs): Uint8Array {
  const out = new Uint8Array(outW * rows * ch);
  const { ksize, bounds, kk } = c;
  if (ch === 4) {
    const spans = rowSpans(src.subarray(yFirst * inW * 4), inW, rows);
    for (let yy = 0; yy < rows; yy++) {
      const l = spans[yy * 2];
      const r = spans[yy * 2 + 1];
      if (r < l) continue;
      const rowIn = (yy + yFirst) * inW * 4;
      const rowOut = yy * outW * 4;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        if (xmin > r || xmin + xmax <= l) continue;
        const kb = xx * ksize;
        const p0 = rowIn + xmin * 4;
        const o = rowOut + xx * 4;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        let s3 = HALF;
        if (xmax === 4) {
          // Four taps (upscaling): skip windows that are entirely transparent, else unrolled sums.
          if ((src[p0 + 3] | src[p0 + 7] | src[p0 + 11] | src[p0 + 15]) === 0) continue;
          const k0 = kk[kb];
          const k1 = kk[kb + 1];
          const k2 = kk[kb + 2];
          const k3 = kk[kb + 3];
          s0 += src[p0] * k0 + src[p0 + 4] * k1 + src[p0 + 8] * k2 + src[p0 + 12] * k3;
          s1 += src[p0 + 1] * k0 + src[p0 + 5] * k1 + src[p0 + 9] * k2 + src[p0 + 13] * k3;
          s2 += src[p0 + 2] * k0 + src[p0 + 6] * k1 + src[p0 + 10] * k2 + src[p0 + 14] * k3;
          s3 += src[p0 + 3] * k0 + src[p0 + 7] * k1 + src[p0 + 11] * k2 + src[p0 + 15] * k3;
        } else {
          for (let x = 0, p = p0; x < xmax; x++, p += 4) {
            const k = kk[kb + x];
            s0 += src[p] * k;
            s1 += src[p + 1] * k;
            s2 += src[p + 2] * k;
            s3 += src[p + 3] * k;
          }
        }
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
        out[o + 3] = clip8(s3);
      }
    }
  } else {
    // run[x]: how many pixels from x on have the same colour. Over a uniform window the
    // fixed-point sum rounds back to that colour exactly (|sum of K - 2^22| <= ksize/2, far below
    // 2^21 / 255), so the background is copied instead of filtered.
    const run = new Int32Array(inW + 1);
    for (let yy = 0; yy < rows; yy++) {
      const rowIn = (yy + yFirst) * inW * ch;
      const rowOut = yy * outW * ch;
      run[inW - 1] = 1;
      for (let x = inW - 2; x >= 0; x--) {
        const p = rowIn + x * 3;
        run[x] = src[p] === src[p + 3] && src[p + 1] === src[p + 4] && src[p + 2] === src[p + 5] ? run[x + 1] + 1 : 1;
      }
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2];
        const xmax = bounds[xx * 2 + 1];
        if (run[xmin] >= xmax) {
          const p = rowIn + xmin * 3;
          const o = rowOut + xx * 3;
          out[o] = src[p];
          out[o + 1] = src[p + 1];
          out[o + 2] = src[p + 2];
          continue;
        }
        const kb = xx * ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        for (let x = 0, p = rowIn + xmin * 3; x < xmax; x++, p += 3) {
          const k = kk[kb + x];
          s0 += src[p] * k;
          s1 += src[p + 1] * k;
          s2 += src[p + 2] * k;
        }
        const o = rowOut + xx * 3;
        out[o] = clip8(s0);
        out[o + 1] = clip8(s1);
        out[o + 2] = clip8(s2);
      }
    }
  }
  return out;
}

/**
 * Vertical pass (Pillow ImagingResampleVertical_8bpc), accumulated row by row; integer sums do
 * not depend on the order, so this equals Pillow's column-wise loop.
 */
function verticalPass(src: Uint8Array, ch: number, w: number, outH: number, yShift: number, c: Coeffs): Uint8Array {
  const { ksize, bounds, kk } = c;
  const stride = w * ch;
  const out = new Uint8Array(stride * outH);
  const acc = new Int32Array(stride);
  const spans = ch === 4 ? rowSpans(src, w, src.length / stride) : null;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2] - yShift;
    const ymax = bounds[yy * 2 + 1];
    let i0 = 0;
    let i1 = stride;
    if (spans) {
      let l = w;
      let r = -1;
      for (let y = ymin; y < ymin + ymax; y++) {
        if (spans[y * 2] < l) l = spans[y * 2];
        if (spans[y * 2 + 1] > r) r = spans[y * 2 + 1];
      }
      if (r < l) continue;
      i0 = l * 4;
      i1 = (r + 1) * 4;
    }
    const kb = yy * ksize;
    const o = yy * stride;
    const base = ymin * stride;
    if (ymax === 4) {
      // The usual case (upscaling or mild downscaling): four taps kept in registers, one pass.
      const k0 = kk[kb];
      const k1 = kk[kb + 1];
      const k2 = kk[kb + 2];
      const k3 = kk[kb + 3];
      const s1 = stride;
      const s2 = 2 * stride;
      const s3 = 3 * stride;
      for (let i = i0, p = base + i0; i < i1; i++, p++) {
        out[o + i] = clip8(HALF + src[p] * k0 + src[p + s1] * k1 + src[p + s2] * k2 + src[p + s3] * k3);
      }
      continue;
    }
    acc.fill(HALF, i0, i1);
    for (let y = 0; y < ymax; y++) {
      const k = kk[kb + y];
      const row = base + y * stride;
      for (let i = i0; i < i1; i++) acc[i] += src[row + i] * k;
    }
    for (let i = i0; i < i1; i++) out[o + i] = clip8(acc[i]);
  }
  return out;
}

/** Bicubic resize of `ch`-channel interleaved bytes, horizontal pass first (Pillow ImagingResampleInner). */
function resample(src: Uint8Array, ch: number, inW: number, inH: number, outW: number, outH: number): Uint8Array {
  const needH = outW !== inW;
  const needV = outH !== inH;
  if (!needH && !needV) return src.slice();
  const vert = needV ? coefficients(inH, outH) : null;
  if (!needH) return verticalPass(src, ch, inW, outH, 0, vert!);
  // Only the source rows the vertical pass will read go through the horizontal one.
  const yFirst = vert ? vert.bounds[0] : 0;
  const yLast = vert ? vert.bounds[outH * 2 - 2] + vert.bounds[outH * 2 - 1] : inH;
  const tmp = horizontalPass(src, ch, inW, outW, yFirst, yLast - yFirst, coefficients(inW, outW));
  return vert ? verticalPass(tmp, ch, outW, outH, yFirst, vert) : tmp;
}

/**
 * The filter `Image.resize(size)` uses when none is given: BICUBIC since Pillow 7.0 (2020),
 * NEAREST before (Pillow 4, lepture's 2017 look).
 */
export type ResampleFilter = 'bicubic' | 'nearest';

/**
 * Source index of each output pixel of a NEAREST resize, or -1 outside the source (Pillow
 * ImagingScaleAffine): pixel centres, the position accumulated step by step as Pillow does.
 */
function nearestIndices(inSize: number, outSize: number): Int32Array {
  const scale = inSize / outSize;
  const tab = new Int32Array(outSize);
  let pos = scale * 0.5;
  for (let i = 0; i < outSize; i++) {
    const v = pos < 0.0 ? -1 : Math.trunc(pos);
    tab[i] = v < inSize ? v : -1;
    pos += scale;
  }
  return tab;
}

/** NEAREST resize of `ch`-channel interleaved bytes: each output pixel copies one source pixel; outside stays 0. */
function resampleNearest(src: Uint8Array, ch: number, inW: number, inH: number, outW: number, outH: number): Uint8Array {
  const xs = nearestIndices(inW, outW);
  const ys = nearestIndices(inH, outH);
  const out = new Uint8Array(outW * outH * ch);
  for (let y = 0; y < outH; y++) {
    if (ys[y] < 0) continue;
    const row = ys[y] * inW * ch;
    for (let x = 0, o = y * outW * ch; x < outW; x++, o += ch) {
      if (xs[x] < 0) continue;
      const s = row + xs[x] * ch;
      for (let c = 0; c < ch; c++) out[o + c] = src[s + c];
    }
  }
  return out;
}

/**
 * `Image.resize((w, h), filter)` of an RGBA image: BICUBIC is computed premultiplied (Pillow >= 7),
 * NEAREST copies pixels as they are.
 */
export function resizeRgba(img: RgbaImage, w: number, h: number, filter: ResampleFilter = 'bicubic'): RgbaImage {
  if (w === img.width && h === img.height) return { width: w, height: h, data: img.data.slice() };
  if (filter === 'nearest') return { width: w, height: h, data: resampleNearest(img.data, 4, img.width, img.height, w, h) };
  const src = img.data.slice();
  premultiply(src);
  const out = resample(src, 4, img.width, img.height, w, h);
  unpremultiply(out);
  return { width: w, height: h, data: out };
}

/** `Image.resize((w, h), filter)` of an RGB image (BICUBIC by default, as Pillow >= 7). */
export function resizeRgb(img: RgbImage, w: number, h: number, filter: ResampleFilter = 'bicubic'): RgbImage {
  if (w === img.width && h === img.height) return { width: w, height: h, data: img.data.slice() };
  const data = filter === 'nearest' ? resampleNearest(img.data, 3, img.width, img.height, w, h) : resample(img.data, 3, img.width, img.height, w, h);
  return { width: w, height: h, data };
}

/**
 * `Image.transform((w, h), QUAD, data)` with the default NEAREST filter: `data` holds the source
 * corners NW, SW, SE, NE; the map is a bilinear blend of them, not a homography (spec §4.5).
 */
export function transformQuad(img: RgbaImage, w: number, h: number, data: readonly number[]): RgbaImage {
  const [a0, a1, a2, a3, a4, a5, a6, a7] = quadCoefficients(w, h, data);
  const sw32 = img.width;
  const sh = img.height;
  const src = new Uint32Array(img.data.buffer, img.data.byteOffset, sw32 * sh);
  const out = new Uint8Array(w * h * 4);
  const o32 = new Uint32Array(out.buffer);
  for (let y = 0; y < h; y++) {
    const yin = y + 0.5;
    for (let x = 0; x < w; x++) {
      const xin = x + 0.5;
      const xs = a0 + a1 * xin + a2 * yin + a3 * xin * yin;
      const ys = a4 + a5 * xin + a6 * yin + a7 * xin * yin;
      const X = xs < 0.0 ? -1 : Math.trunc(xs);
      const Y = ys < 0.0 ? -1 : Math.trunc(ys);
      if (X < 0 || X >= sw32 || Y < 0 || Y >= sh) continue;
      o32[y * w + x] = src[Y * sw32 + X];
    }
  }
  return { width: w, height: h, data: out };
}

/** Bilinear corner-blend coefficients of a QUAD transform to a `w x h` output (Pillow Image.py). */
function quadCoefficients(w: number, h: number, data: readonly number[]): number[] {
  const x0 = data[0];
  const y0 = data[1];
  const As = 1.0 / w;
  const At = 1.0 / h;
  return [
    x0,
    (data[6] - x0) * As,
    (data[2] - x0) * At,
    (data[4] - data[2] - data[6] + x0) * As * At,
    y0,
    (data[7] - y0) * As,
    (data[3] - y0) * At,
    (data[5] - data[3] - data[7] + y0) * As * At,
  ];
}

/**
 * lepture's per-character warp, `im.rotate(angle, BILINEAR, expand=True).resize((w2, h2))
 * .transform((w, h), QUAD, quad)`, giving the same bytes as the three calls (tests compare them).
 * With the BICUBIC resize it does less work: the premultiplied data stays premultiplied between
 * the filters, and since the QUAD (nearest) reads only w x h pixels of the resized image, the
 * vertical bicubic pass is evaluated at just those pixels instead of all w2 x h2. A NEAREST
 * resize (Pillow 4's default) is cheap already and runs as the three calls.
 */
export function warpGlyph(
  img: RgbaImage,
  angle: number,
  w2: number,
  h2: number,
  w: number,
  h: number,
  quad: readonly number[],
  filter: ResampleFilter = 'bicubic',
): RgbaImage {
  if (filter === 'nearest') return transformQuad(resizeRgba(rotateExpand(img, angle), w2, h2, 'nearest'), w, h, quad);
  angle = normalizeAngle(angle);
  const turned = exactTurn(img, angle);
  if (turned) return transformQuad(resizeRgba(turned, w2, h2), w, h, quad);
  const src = img.data.slice();
  premultiply(src);
  const rot = rotatePremultiplied(src, img.width, img.height, angle);
  if (rot.width === w2 && rot.height === h2) {
    unpremultiply(rot.data);
    return transformQuad(rot, w, h, quad);
  }
  repremultiply(rot.data);
  // Horizontal pass in full (only over the rows the vertical pass reads), as Pillow does.
  const vert = h2 !== rot.height ? coefficients(rot.height, h2) : null;
  const yFirst = vert ? vert.bounds[0] : 0;
  const yLast = vert ? vert.bounds[h2 * 2 - 2] + vert.bounds[h2 * 2 - 1] : rot.height;
  const tmp = w2 !== rot.width ? horizontalPass(rot.data, 4, rot.width, w2, yFirst, yLast - yFirst, coefficients(rot.width, w2)) : rot.data;
  const stride = w2 * 4;
  const [a0, a1, a2, a3, a4, a5, a6, a7] = quadCoefficients(w, h, quad);
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const yin = y + 0.5;
    for (let x = 0; x < w; x++) {
      const xin = x + 0.5;
      const xs = a0 + a1 * xin + a2 * yin + a3 * xin * yin;
      const ys = a4 + a5 * xin + a6 * yin + a7 * xin * yin;
      const X = xs < 0.0 ? -1 : Math.trunc(xs);
      const Y = ys < 0.0 ? -1 : Math.trunc(ys);
      if (X < 0 || X >= w2 || Y < 0 || Y >= h2) continue;
      const o = (y * w + x) * 4;
      let c0: number;
      let c1: number;
      let c2: number;
      let c3: number;
      if (vert) {
        // Resized pixel (X, Y): Pillow's vertical sum for this one pixel.
        const ymin = vert.bounds[Y * 2] - yFirst;
        const ymax = vert.bounds[Y * 2 + 1];
        const kb = Y * vert.ksize;
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        let s3 = HALF;
        for (let t = 0, p = ymin * stride + X * 4; t < ymax; t++, p += stride) {
          const k = vert.kk[kb + t];
          s0 += tmp[p] * k;
          s1 += tmp[p + 1] * k;
          s2 += tmp[p + 2] * k;
          s3 += tmp[p + 3] * k;
        }
        c3 = clip8(s3);
        if (c3 === 0 && s0 <= HALF && s1 <= HALF && s2 <= HALF) continue; // all zero (common: transparent)
        c0 = clip8(s0);
        c1 = clip8(s1);
        c2 = clip8(s2);
      } else {
        const p = Y * stride + X * 4;
        c0 = tmp[p];
        c1 = tmp[p + 1];
        c2 = tmp[p + 2];
        c3 = tmp[p + 3];
      }
      // Unpremultiply (Pillow converts RGBa back to RGBA after the resize).
      if (c3 !== 0 && c3 !== 255) {
        const k = c3 << 8;
        c0 = UNPREMUL[k | c0];
        c1 = UNPREMUL[k | c1];
        c2 = UNPREMUL[k | c2];
      }
      out[o] = c0;
      out[o + 1] = c1;
      out[o + 2] = c2;
      out[o + 3] = c3;
    }
  }
  return { width: w, height: h, data: out };
}

/** lepture's paste-mask table since 0.4: `int(i * 1.97)`, clipped to 255 by `point()`. */
export const LUMA_MASK_LUT: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = Math.min(255, Math.trunc(i * 1.97));
  return t;
})();

/** Python's `round(x)`: to the nearest integer, halves to the even one. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * lepture's paste-mask table up to 0.3: the floats `i * 1.97`, which Pillow 9.4's `point()`
 * rounds (Python `round`, so 98.5 at i = 50 gives 98) and clips to 255.
 */
export const LUMA_MASK_LUT_ROUNDED: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = Math.min(255, roundHalfEven(i * 1.97));
  return t;
})();

/**
 * How strongly `pasteLumaMask` pastes ink of this colour over the background, 0-1: the mask is
 * the ink's own luma through `lut`, so with lepture's x 1.97 a dark ink comes out faint (luma 30:
 * 0.23) and any ink of luma 130 or more is pasted whole.
 */
export function pasteStrength(rgb: readonly number[], lut: Uint8Array = LUMA_MASK_LUT): number {
  return lut[(rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16] / 255;
}

/**
 * `dst.paste(src, (x, y), src.convert('L').point(lut))`: blends the RGBA image's colour onto the
 * RGB image, weighted by the ITU-R 601 luma of its colour (alpha is ignored, spec §4.6).
 */
export function pasteLumaMask(dst: RgbImage, src: RgbaImage, x: number, y: number, lut: Uint8Array = LUMA_MASK_LUT): void {
  let sx = 0;
  let sy = 0;
  let w = src.width;
  let h = src.height;
  if (x < 0) {
    w += x;
    sx = -x;
    x = 0;
  }
  if (y < 0) {
    h += y;
    sy = -y;
    y = 0;
  }
  if (x + w > dst.width) w = dst.width - x;
  if (y + h > dst.height) h = dst.height - y;
  if (w <= 0 || h <= 0) return;
  const d = dst.data;
  const s = src.data;
  for (let j = 0; j < h; j++) {
    let o = ((y + j) * dst.width + x) * 3;
    let i = ((sy + j) * src.width + sx) * 4;
    for (let k = 0; k < w; k++, o += 3, i += 4) {
      const r = s[i];
      const g = s[i + 1];
      const b = s[i + 2];
      const m = lut[(r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16];
      if (m === 0) continue;
      if (m === 255) {
        d[o] = r;
        d[o + 1] = g;
        d[o + 2] = b;
        continue;
      }
      const n = 255 - m;
      d[o] = div255(d[o] * n + r * m);
      d[o + 1] = div255(d[o + 1] * n + g * m);
      d[o + 2] = div255(d[o + 2] * n + b * m);
    }
  }
}

/** The 8 pixels Pillow's 3-px-wide line from (x, y) to (x-1, y-1) covers (spec §2.5). */
const DOT_FOOTPRINT = [-2, 0, -1, -1, -1, 0, -1, 1, 0, -2, 0, -1, 0, 0, 1, -1];

/** lepture's noise dot: `line(((x, y), (x - 1, y - 1)), width=3)`, opaque, clipped. */
export function drawNoiseDot(img: RgbImage, x: number, y: number, r: number, g: number, b: number): void {
  const { width: w, height: h, data: d } = img;
  for (let i = 0; i < DOT_FOOTPRINT.length; i += 2) {
    const px = x + DOT_FOOTPRINT[i];
    const py = y + DOT_FOOTPRINT[i + 1];
    if (px < 0 || px >= w || py < 0 || py >= h) continue;
    const o = (py * w + px) * 3;
    d[o] = r;
    d[o + 1] = g;
    d[o + 2] = b;
  }
}

/** `ImageDraw.arc([x0, y0, x1, y1], start, end, fill)`, width 1, opaque, aliased (Pillow >= 8). */
export function drawArc(
  img: RgbImage,
  box: readonly [number, number, number, number],
  start: number,
  end: number,
  r: number,
  g: number,
  b: number,
): void {
  const { width: w, height: h, data: d } = img;
  arcSpans(Math.trunc(box[0]), Math.trunc(box[1]), Math.trunc(box[2]), Math.trunc(box[3]), start, end, (xa, y, xb) => {
    if (y < 0 || y >= h) return;
    if (xa > xb) [xa, xb] = [xb, xa];
    if (xa < 0) xa = 0;
    else if (xa >= w) return;
    if (xb < 0) return;
    if (xb >= w) xb = w - 1;
    for (let x = xa, o = (y * w + xa) * 3; x <= xb; x++, o += 3) {
      d[o] = r;
      d[o + 1] = g;
      d[o + 2] = b;
    }
  });
}

/**
 * `Image.filter(SMOOTH)`: 3x3 kernel [[1,1,1],[1,5,1],[1,1,1]]/13 with +0.5 and truncation; the
 * 1-pixel border is copied unchanged (Pillow ImagingFilter3x3).
 *
 * Pillow sums in float32, but the result always equals the exact integer formula
 * `floor((S + 6.5) / 13) = floor((2S + 13) / 26)`, S = 8 neighbours + 5 x centre: 2S + 13 is
 * odd, so the exact value is at least 1/26 from an integer, while the float32 rounding error of
 * the nine products and eight sums stays below 3e-4. (The tests compare it with a float32
 * emulation.) Column sums of three rows make it a handful of integer adds per pixel.
 */
export function smooth(img: RgbImage): RgbImage {
  const { width: w, height: h, data: s } = img;
  const out = s.slice();
  const stride = w * 3;
  const col = new Int32Array(stride);
  for (let y = 1; y < h - 1; y++) {
    const r0 = y * stride;
    const ru = r0 - stride;
    const rd = r0 + stride;
    for (let i = 0; i < stride; i++) col[i] = s[ru + i] + s[r0 + i] + s[rd + i];
    for (let i = 3; i < stride - 3; i++) {
      const S = col[i - 3] + col[i] + col[i + 3] + 4 * s[r0 + i];
      out[r0 + i] = SMOOTH_TABLE[S];
    }
  }
  return { width: w, height: h, data: out };
}

/** floor((2S + 13) / 26) for every possible S = 0 .. 13 x 255. */
const SMOOTH_TABLE = (() => {
  const t = new Uint8Array(13 * 255 + 1);
  for (let S = 0; S < t.length; S++) t[S] = Math.floor((2 * S + 13) / 26);
  return t;
})();
