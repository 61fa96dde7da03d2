/**
 * What an image file's bytes say before any pixel is decoded: its format and size (from the PNG
 * IHDR chunk or the JPEG frame header), and whether the file is whole. node-canvas decodes a
 * truncated or damaged file without a word (libjpeg's "Corrupt JPEG data" warnings are
 * swallowed, missing rows come out grey), so damage is found here, by walking the file's
 * structure: every PNG chunk and its CRC up to IEND; every JPEG segment up to the end-of-image
 * marker and, for baseline JPEGs (what the generator and most cameras write), every Huffman code
 * of the image data, which must hold exactly the blocks the frame needs.
 */

export type ImageFileFormat = 'png' | 'jpg';

export interface ImageHeader {
  format: ImageFileFormat;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** A file that cannot be read as a PNG or JPEG; `message` says why, without the file name. */
export class ImageFormatError extends Error {
  constructor(
    message: string,
    /** True when the file is some other format altogether (not a damaged PNG or JPEG). */
    readonly otherFormat = false,
  ) {
    super(message);
  }
}

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && PNG_SIGNATURE.every((v, i) => b[i] === v);
}

function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/**
 * Format and size of a PNG or JPEG from its first bytes.
 * @throws ImageFormatError for other formats and headers cut short
 */
export function readImageHeader(bytes: Uint8Array): ImageHeader {
  if (isPng(bytes)) {
    if (bytes.length < 8 + 8 + 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
      throw new ImageFormatError('it is a PNG whose header (IHDR chunk) is missing or cut short');
    }
    return { format: 'png', width: u32(bytes, 16), height: u32(bytes, 20) };
  }
  if (isJpeg(bytes)) {
    for (const seg of jpegSegments(bytes)) {
      if (seg.damage) throw new ImageFormatError(`it is a JPEG that ${seg.damage} before its frame header`);
      if (isFrameMarker(seg.marker)) {
        if (seg.length < 8) throw new ImageFormatError('it is a JPEG whose frame header is cut short');
        return { format: 'jpg', width: u16(bytes, seg.start + 3), height: u16(bytes, seg.start + 1) };
      }
      if (seg.marker === 0xda || seg.marker === 0xd9) break;
    }
    throw new ImageFormatError('it is a JPEG without a frame header (SOF marker)');
  }
  const head = Array.from(bytes.subarray(0, 4), (v) => v.toString(16).padStart(2, '0')).join(' ');
  throw new ImageFormatError(`it is not a PNG or JPEG (it starts with ${bytes.length ? `bytes ${head}` : 'nothing: the file is empty'})`, bytes.length > 0);
}

/**
 * What is wrong with a PNG or JPEG file, or null when it is whole (as far as its structure
 * shows: a baseline JPEG's image data is checked code by code, a progressive one's only to its
 * end marker).
 */
export function findImageDamage(bytes: Uint8Array, header: ImageHeader): string | null {
  return header.format === 'png' ? pngDamage(bytes) : jpegDamage(bytes);
}

// ---------------------------------------------------------------------------------------------
// PNG: chunks of length, type, data, CRC-32 (of type and data), ending with IEND.

let crcTable: Uint32Array | null = null;

function crc32(b: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngDamage(b: Uint8Array): string | null {
  let p = 8;
  while (p + 12 <= b.length) {
    const length = u32(b, p);
    const type = String.fromCharCode(b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    const end = p + 8 + length;
    if (end + 4 > b.length) return `is truncated: it ends inside its ${JSON.stringify(type)} chunk`;
    if (crc32(b, p + 4, end) !== u32(b, end)) return `is corrupt: its ${JSON.stringify(type)} chunk fails its CRC check`;
    if (type === 'IEND') return null;
    p = end + 4;
  }
  return 'is truncated: it ends before its IEND chunk';
}

// ---------------------------------------------------------------------------------------------
// JPEG: marker segments (FF xx, then a 2-byte length for most), image data after each SOS.

interface JpegSegment {
  marker: number;
  /** Offset of the segment's data after the length field. */
  start: number;
  /** Bytes of data (the length field minus its own 2 bytes). */
  length: number;
  /** Set (and the walk ends) when the file is cut inside a segment or has bytes where a marker belongs. */
  damage?: string;
}

/** SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC). */
function isFrameMarker(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

/** Markers that stand alone, without a length: TEM, RST0-7, SOI, EOI. */
function isStandalone(m: number): boolean {
  return m === 0x01 || (m >= 0xd0 && m <= 0xd9);
}

/**
 * The header segments from just after SOI, stopping after SOS (the caller then reads the image
 * data and resumes with {@link jpegSegments} at the next marker) or at EOI.
 */
function* jpegSegments(b: Uint8Array, from = 2): Generator<JpegSegment> {
  let p = from;
  for (;;) {
    if (p >= b.length) return;
    if (b[p] !== 0xff) {
      yield { marker: -1, start: p, length: 0, damage: `has stray bytes at offset ${p} where a marker belongs` };
      return;
    }
    while (b[p] === 0xff && p < b.length) p++; // fill bytes
    if (p >= b.length) return;
    const marker = b[p++];
    if (isStandalone(marker)) {
      yield { marker, start: p, length: 0 };
      if (marker === 0xd9) return;
      continue;
    }
    if (p + 2 > b.length) {
      yield { marker, start: p, length: 0, damage: 'is truncated: it ends inside a marker segment' };
      return;
    }
    const length = u16(b, p) - 2;
    if (length < 0 || p + 2 + length > b.length) {
      yield { marker, start: p + 2, length: 0, damage: 'is truncated: it ends inside a marker segment' };
      return;
    }
    yield { marker, start: p + 2, length };
    p += 2 + length;
    if (marker === 0xda) return;
  }
}

interface HuffmanTable {
  /** Largest code of each length 1-16 (-1: none). */
  maxCode: Int32Array;
  /** Index in `values` of the first code of each length, minus that code. */
  offset: Int32Array;
  values: Uint8Array;
  /** For each 9-bit prefix: (code length << 8) | symbol of the code it starts with, 0 when longer than 9 bits. */
  fast: Uint16Array;
}

const FAST_BITS = 9;

function huffmanTable(counts: Uint8Array, values: Uint8Array): HuffmanTable {
  const maxCode = new Int32Array(17).fill(-1);
  const offset = new Int32Array(17);
  const fast = new Uint16Array(1 << FAST_BITS);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1];
    if (n > 0) {
      offset[len] = k - code;
      if (len <= FAST_BITS) {
        for (let i = 0; i < n; i++) {
          const first = (code + i) << (FAST_BITS - len);
          fast.fill((len << 8) | values[k + i], first, first + (1 << (FAST_BITS - len)));
        }
      }
      code += n;
      k += n;
      maxCode[len] = code - 1;
    }
    code <<= 1;
  }
  return { maxCode, offset, values, fast };
}

interface FrameComponent {
  id: number;
  h: number;
  v: number;
}

interface Frame {
  marker: number;
  precision: number;
  width: number;
  height: number;
  components: FrameComponent[];
}

/**
 * Reads a scan's Huffman-coded data; past a marker or the file's end it reads zeros (as libjpeg
 * does) and notes that it did, since a whole scan never needs them.
 */
class BitReader {
  /** Up to 24 buffered bits, the next ones highest (small enough to stay a small integer). */
  private acc = 0;
  private count = 0;
  /** Of the buffered bits, how many at the low end are zeros made up past the data. */
  private padding = 0;
  /** Offset in the file of each buffered byte, oldest first. */
  private offsets: number[] = [];
  /** Set once a bit past a marker or the end of the file was used. */
  ranOut = false;

  constructor(
    private readonly b: Uint8Array,
    public p: number,
  ) {}

  private fill(): void {
    const b = this.b;
    while (this.count <= 16) {
      let byte = 0;
      this.offsets.push(this.p);
      if (this.p < b.length && !(b[this.p] === 0xff && b[this.p + 1] !== 0x00)) {
        byte = b[this.p];
        this.p += byte === 0xff ? 2 : 1; // FF 00 stands for a data byte FF
      } else {
        this.padding += 8;
      }
      this.acc = (this.acc << 8) | byte;
      this.count += 8;
      if (this.offsets.length > 4) this.offsets.shift();
    }
  }

  private peek(n: number): number {
    return (this.acc >>> (this.count - n)) & ((1 << n) - 1);
  }

  private consume(n: number): void {
    this.count -= n;
    this.acc &= (1 << this.count) - 1;
    if (this.count < this.padding) this.ranOut = true;
  }

  skip(n: number): void {
    if (n === 0) return;
    this.fill();
    this.consume(n);
  }

  /** Drops the rest of the current byte; `p` is then the offset of the first byte not used. */
  align(): void {
    const wholeBytes = this.count >> 3;
    if (wholeBytes > 0) this.p = this.offsets[this.offsets.length - wholeBytes];
    this.acc = 0;
    this.count = 0;
    this.padding = 0;
    this.offsets = [];
  }

  /** A Huffman code's symbol, or -1 for a bit pattern the table does not hold. */
  decode(t: HuffmanTable): number {
    this.fill();
    const f = t.fast[this.peek(FAST_BITS)];
    if (f !== 0) {
      this.consume(f >> 8);
      return f & 0xff;
    }
    for (let len = FAST_BITS + 1; len <= 16; len++) {
      const code = this.peek(len);
      if (code <= t.maxCode[len]) {
        this.consume(len);
        return t.values[t.offset[len] + code];
      }
    }
    return -1;
  }
}

function jpegDamage(b: Uint8Array): string | null {
  const dc = new Map<number, HuffmanTable>();
  const ac = new Map<number, HuffmanTable>();
  let frame: Frame | null = null;
  let restartInterval = 0;
  let scans = 0;
  let p = 2;
  for (;;) {
    let sos: JpegSegment | null = null;
    for (const seg of jpegSegments(b, p)) {
      if (seg.damage) return seg.damage;
      p = seg.start + seg.length;
      const s = seg.start;
      if (seg.marker === 0xd9) return scans > 0 ? null : 'is truncated: it ends before its image data';
      if (isFrameMarker(seg.marker)) {
        const components: FrameComponent[] = [];
        for (let i = 0; i < b[s + 5]; i++) {
          const c = s + 6 + 3 * i;
          components.push({ id: b[c], h: b[c + 1] >> 4, v: b[c + 1] & 15 });
        }
        frame = { marker: seg.marker, precision: b[s], height: u16(b, s + 1), width: u16(b, s + 3), components };
      } else if (seg.marker === 0xc4) {
        for (let q = s; q + 17 <= s + seg.length; ) {
          const counts = b.subarray(q + 1, q + 17);
          const n = counts.reduce((a, x) => a + x, 0);
          const table = huffmanTable(counts, b.subarray(q + 17, q + 17 + n));
          (b[q] >> 4 === 0 ? dc : ac).set(b[q] & 15, table);
          q += 17 + n;
        }
      } else if (seg.marker === 0xdd) {
        restartInterval = u16(b, s);
      } else if (seg.marker === 0xda) {
        sos = seg;
      }
    }
    if (!sos) return 'is truncated: it has no end-of-image marker';
    scans++;
    if (!frame) return 'is corrupt: its image data comes before its frame header';
    const scan = checkableScan(b, sos, frame);
    const end = scan ? walkScan(b, p, frame, scan, dc, ac, restartInterval) : skipScan(b, p);
    if (typeof end === 'string') return end;
    p = end;
  }
}

interface ScanComponent {
  frame: FrameComponent;
  dc: number;
  ac: number;
}

/** The scan's components when its data can be walked: baseline or extended sequential Huffman, 8 bits. */
function checkableScan(b: Uint8Array, sos: JpegSegment, frame: Frame): ScanComponent[] | null {
  if ((frame.marker !== 0xc0 && frame.marker !== 0xc1) || frame.precision !== 8 || frame.height === 0) return null;
  const n = b[sos.start];
  const out: ScanComponent[] = [];
  for (let i = 0; i < n; i++) {
    const c = sos.start + 1 + 2 * i;
    const fc = frame.components.find((x) => x.id === b[c]);
    if (!fc) return null;
    out.push({ frame: fc, dc: b[c + 1] >> 4, ac: b[c + 1] & 15 });
  }
  return out;
}

/** Offset of the marker after a scan's data that is not walked (progressive, arithmetic, ...). */
function skipScan(b: Uint8Array, p: number): number | string {
  for (let i = p; i + 1 < b.length; i++) {
    if (b[i] === 0xff && b[i + 1] !== 0x00 && !(b[i + 1] >= 0xd0 && b[i + 1] <= 0xd7)) return i;
  }
  return 'is truncated: it has no end-of-image marker';
}

/**
 * Decodes every Huffman code of a sequential scan (without the DCT: only the code structure), so
 * that data cut short, bytes overwritten or bytes left over show up as libjpeg's warnings would.
 * @returns the offset of the marker after the scan, or what is wrong
 */
function walkScan(
  b: Uint8Array,
  p: number,
  frame: Frame,
  comps: ScanComponent[],
  dc: Map<number, HuffmanTable>,
  ac: Map<number, HuffmanTable>,
  restartInterval: number,
): number | string {
  const hMax = Math.max(...frame.components.map((c) => c.h));
  const vMax = Math.max(...frame.components.map((c) => c.v));
  let mcus: number;
  let blocks: Array<{ dc: HuffmanTable; ac: HuffmanTable }>;
  const tables = (c: ScanComponent): { dc: HuffmanTable; ac: HuffmanTable } | null => {
    const d = dc.get(c.dc);
    const a = ac.get(c.ac);
    return d && a ? { dc: d, ac: a } : null;
  };
  if (comps.length === 1) {
    const c = comps[0];
    const t = tables(c);
    if (!t) return 'is corrupt: its image data uses a Huffman table it does not define';
    const w = Math.ceil(Math.ceil((frame.width * c.frame.h) / hMax) / 8);
    const h = Math.ceil(Math.ceil((frame.height * c.frame.v) / vMax) / 8);
    mcus = w * h;
    blocks = [t];
  } else {
    mcus = Math.ceil(frame.width / (8 * hMax)) * Math.ceil(frame.height / (8 * vMax));
    blocks = [];
    for (const c of comps) {
      const t = tables(c);
      if (!t) return 'is corrupt: its image data uses a Huffman table it does not define';
      for (let i = 0; i < c.frame.h * c.frame.v; i++) blocks.push(t);
    }
  }
  const r = new BitReader(b, p);
  const corrupt = (mcu: number): string =>
    r.ranOut
      ? `is truncated or corrupt: its image data ends after ${mcu} of ${mcus} blocks`
      : `is corrupt: its image data has an invalid code in block ${mcu + 1} of ${mcus}`;
  for (let mcu = 0; mcu < mcus; mcu++) {
    if (restartInterval > 0 && mcu > 0 && mcu % restartInterval === 0) {
      r.align();
      const expected = 0xd0 + ((mcu / restartInterval - 1) % 8);
      if (b[r.p] !== 0xff || b[r.p + 1] !== expected) return `is corrupt: restart marker ${mcu / restartInterval} is missing`;
      r.p += 2;
    }
    for (const t of blocks) {
      const s = r.decode(t.dc);
      if (s < 0 || s > 11) return corrupt(mcu);
      r.skip(s);
      for (let k = 1; k < 64; k++) {
        const rs = r.decode(t.ac);
        if (rs < 0) return corrupt(mcu);
        const run = rs >> 4;
        const size = rs & 15;
        if (size === 0) {
          if (run !== 15) break; // end of block
          k += 15;
        } else {
          k += run;
          r.skip(size);
        }
        if (k > 63) return corrupt(mcu);
      }
      if (r.ranOut) return corrupt(mcu);
    }
  }
  r.align();
  let end = r.p;
  while (end + 1 < b.length && !(b[end] === 0xff && b[end + 1] !== 0x00)) end++;
  if (end + 1 >= b.length) return 'is truncated: it has no end-of-image marker';
  if (end > r.p) return `is corrupt: ${end - r.p} stray bytes follow its image data`;
  return end;
}
