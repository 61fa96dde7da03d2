/**
 * `ImageCaptcha`: a port of lepture/captcha's `captcha.image.ImageCaptcha` (v0.7.0 / v0.7.1, and
 * v0.2.2 of March 2017), step by step and draw by draw, with the randomness injected. See
 * ../shared/reference/lepture-captcha-spec.md §2 for the algorithm this follows and §5 for 0.2.2.
 */
import {
  alphaBBox,
  crop,
  div255,
  drawArc,
  drawNoiseDot,
  LUMA_MASK_LUT,
  LUMA_MASK_LUT_ROUNDED,
  pasteLumaMask,
  pasteStrength,
  resizeRgb,
  smooth,
  warpGlyph,
  type ResampleFilter,
  type RgbImage,
  type RgbaImage,
} from './raster';
import { buildGlyphAtlas, DEFAULT_FONT, loadFont, type FontSpec, type GlyphAtlas, type GlyphBitmap, type LoadedFont } from './glyphs';
import type { RandomSource } from './rng';
import { writeFileAtomic } from '../files';
import { encode, type EncodeOptions, type ImageFormat } from './encode';
import { expandAlphabet } from './text';
import { withDefaults } from '../options';

/**
 * Which lepture release to follow (spec §2.4, §5): '0.7.0' and '0.7.1' differ in warp strength and
 * the noise arc's end; '0.2.2' (March 2017) has bigger fonts, no spaces and no squeeze;
 * '0.2.2-pillow4' is 0.2.2 with `Image.resize` defaulting to NEAREST, as on the Pillow 4 of 2017.
 */
export const CAPTCHA_VERSIONS = ['0.7.0', '0.7.1', '0.2.2', '0.2.2-pillow4'] as const;
export type CaptchaVersion = (typeof CAPTCHA_VERSIONS)[number];

/** What a version does differently; the rest of the algorithm is common to all of them. */
export interface CaptchaVersionProfile {
  /** Default font sizes, px: (46, 58, 68) up to 0.2.2, (42, 50, 56) since 0.2.3. */
  fontSizes: readonly number[];
  /** Default chance of a blank glyph before each character; null: the release draws no spaces (they came in 0.3). */
  wordSpaceProbability: number | null;
  /** Lowest random ink channel: 0 up to 0.2.x, 10 since 0.3 ("fix invisible text"). */
  inkMin: number;
  /** Character box: Pillow's `textbbox` (0.6+), or the `textsize` of older releases (one px less each way). */
  glyphBox: 'textbbox' | 'textsize';
  /** Paste-mask table: `int(i * 1.97)` (0.4+), or up to 0.3 the floats `i * 1.97`, which Pillow 9.4 rounds. */
  maskTable: Uint8Array;
  /** Warp amplitude: `w * uniform(min, max)`, or 0.7.1's precedence slip `w * U * (max - min) + min`. */
  warp: 'uniform' | 'precedence-slip';
  /** Where the noise arc ends: in the right fifth, or (0.7.1) anywhere past the left fifth. */
  arcEnd: 'right-fifth' | 'past-left-fifth';
  /** Whether text wider than the image is squeezed back to its width (since 0.2.3, "make width fixed"). */
  squeeze: boolean;
  /** `Image.resize`'s default filter, used for the glyph stretch and the squeeze: Pillow >= 7 BICUBIC, Pillow 4 NEAREST. */
  resample: ResampleFilter;
}

const LEPTURE_022: CaptchaVersionProfile = {
  fontSizes: [46, 58, 68],
  wordSpaceProbability: null,
  inkMin: 0,
  glyphBox: 'textsize',
  maskTable: LUMA_MASK_LUT_ROUNDED,
  warp: 'uniform',
  arcEnd: 'right-fifth',
  squeeze: false,
  resample: 'bicubic',
};
const LEPTURE_070: CaptchaVersionProfile = {
  fontSizes: [42, 50, 56],
  wordSpaceProbability: 0.5,
  inkMin: 10,
  glyphBox: 'textbbox',
  maskTable: LUMA_MASK_LUT,
  warp: 'uniform',
  arcEnd: 'right-fifth',
  squeeze: true,
  resample: 'bicubic',
};

/** Every version's differences, in one place. */
export const CAPTCHA_VERSION_PROFILES: Readonly<Record<CaptchaVersion, Readonly<CaptchaVersionProfile>>> = {
  '0.7.0': LEPTURE_070,
  '0.7.1': { ...LEPTURE_070, warp: 'precedence-slip', arcEnd: 'past-left-fifth' },
  '0.2.2': LEPTURE_022,
  '0.2.2-pillow4': { ...LEPTURE_022, resample: 'nearest' },
};

const DEFAULT_VERSION: CaptchaVersion = '0.7.0';

/** `[min, max]`, inclusive for integers. */
export type Range = readonly [number, number];

/**
 * Image sides the tools accept, px: from 8 (smaller holds no character) to 4096 (the largest
 * image decoded, see src/data/image-file). The generator itself would draw any size.
 */
export const CAPTCHA_SIDE = { min: 8, max: 4096 } as const;

/** Is `n` whole pixels within CAPTCHA_SIDE? */
export function isCaptchaSide(n: number): boolean {
  return Number.isInteger(n) && n >= CAPTCHA_SIDE.min && n <= CAPTCHA_SIDE.max;
}

export interface ImageCaptchaOptions {
  /** Image width, px. @default 160 */
  width?: number;
  /** Image height, px. @default 60 */
  height?: number;
  /** Font files (paths or specs); each character picks one font and size at random. @default [DEFAULT_FONT] */
  fonts?: ReadonlyArray<string | FontSpec>;
  /**
   * Font sizes in px (FreeType pixel size, as Pillow's `truetype(path, size)`).
   * @default the version's: [42, 50, 56]; [46, 58, 68] for 0.2.2
   */
  fontSizes?: readonly number[];
  /** Characters texts may use; ranges such as `0-9A-Z` are expanded. @default '0-9A-Z' */
  alphabet?: string;
  /**
   * lepture release whose formulas and defaults to follow. '0.7.0' has the classic strong
   * perspective warp; '0.7.1' (the current PyPI release) has weaker warps and a noise arc that may
   * end mid-image; '0.2.2' is the March 2017 release (fonts 46/58/68, no spaces, darker inks
   * allowed, no squeeze) on today's Pillow; '0.2.2-pillow4' adds Pillow 4's NEAREST resize, the
   * 2017 look. See {@link CAPTCHA_VERSION_PROFILES}.
   * @default '0.7.0'
   */
  version?: CaptchaVersion;
  /** `character_offset_dx`: pen offset range, px (no visible effect, but drawn). @default [0, 4] */
  characterOffsetDx?: Range;
  /** `character_offset_dy`. @default [0, 6] */
  characterOffsetDy?: Range;
  /** `character_rotate`: rotation range, degrees counter-clockwise. @default [-30, 30] */
  characterRotate?: Range;
  /** `character_warp_dx`: horizontal warp range, fraction of the box width. @default [0.1, 0.3] */
  characterWarpDx?: Range;
  /** `character_warp_dy`: vertical warp range, fraction of the box height. @default [0.2, 0.3] */
  characterWarpDy?: Range;
  /**
   * `word_space_probability`: chance of a blank glyph before each character. 0.2.2 draws no
   * spaces, so only 0 is accepted there.
   * @default 0.5; 0 for 0.2.2
   */
  wordSpaceProbability?: number;
  /** `word_offset_dx`: maximum overlap of neighbours, fraction of the average glyph width. @default 0.25 */
  wordOffsetDx?: number;
  /** Number of noise dots (`create_noise_dots(number=30)`). @default 30 */
  noiseDots?: number;
  /** Draw the noise arc. @default true */
  noiseCurve?: boolean;
  /**
   * Pre-rendered glyphs (from {@link ImageCaptcha.glyphAtlas}); when set, no font file is read and
   * node-canvas is not needed. Worker threads get their glyphs this way.
   * @default undefined (render the fonts with node-canvas on first use)
   */
  glyphAtlas?: GlyphAtlas;
}

export const DEFAULT_IMAGE_CAPTCHA_OPTIONS = {
  width: 160,
  height: 60,
  fonts: [DEFAULT_FONT] as ReadonlyArray<string | FontSpec>,
  fontSizes: LEPTURE_070.fontSizes,
  alphabet: '0-9A-Z',
  version: DEFAULT_VERSION,
  characterOffsetDx: [0, 4] as Range,
  characterOffsetDy: [0, 6] as Range,
  characterRotate: [-30, 30] as Range,
  characterWarpDx: [0.1, 0.3] as Range,
  characterWarpDy: [0.2, 0.3] as Range,
  wordSpaceProbability: LEPTURE_070.wordSpaceProbability!,
  wordOffsetDx: 0.25,
  noiseDots: 30,
  noiseCurve: true,
} as const;

/** Options with every default filled in (what a manifest records). */
export type ResolvedImageCaptchaOptions = Omit<Required<ImageCaptchaOptions>, 'glyphAtlas'>;

/** RGB colour, each channel 0-255. */
export type RgbColor = readonly [number, number, number];
/** RGB or RGBA colour; alpha defaults to 255. */
export type RgbaColor = readonly [number, number, number] | readonly [number, number, number, number];

export interface GenerateImageOptions {
  /** Background colour; random in 238-255 per channel when not set. */
  bgColor?: RgbColor;
  /** Text, dot and arc colour; random in 10-200 (0.2.2: 0-200) per channel, alpha 220-255, when not set (still drawn). */
  fgColor?: RgbaColor;
  /**
   * 0.2.2 only (it has no squeeze): return an image drawn wider than `width` as lepture does,
   * `max(text width, width)` wide, instead of resizing it to `width` with the version's resize
   * filter (as a user of those files had to, and as 0.2.3 began doing itself).
   * @default false
   */
  keepWidth?: boolean;
  /**
   * Called with each character's random draws and where it landed, spaces included, in order,
   * once the image is drawn: for studies of what makes a glyph hard to read
   * (scripts/clutter-study.ts, scripts/glyph-separability.ts). Changes no draw.
   */
  onGlyph?: (glyph: DrawnGlyph) => void;
}

/** One character as `generateImage` drew it (`onGlyph`). */
export interface DrawnGlyph {
  /** The character; ' ' for a space. */
  char: string;
  /** Its font size, px. */
  fontSize: number;
  /** Its rotation, degrees counter-clockwise. */
  angle: number;
  /** Its box before the warp, px (what lepture's squeeze adds up). */
  width: number;
  height: number;
  /**
   * The centre of its box in the image returned, px from the image's left edge (a continuous
   * coordinate: pixel k spans k to k+1), after the overlap, the squeeze and any resize. A glyph
   * whose ink runs off the image is still reported at its box's centre.
   */
  x: number;
  /** Its box's left and right edges in the image returned, px, likewise: neighbours' boxes overlap by lepture's random word offset. */
  left: number;
  right: number;
  /**
   * How strongly its ink was pasted, 0-1 (`pasteStrength`): lepture pastes through the ink's own
   * luma x 1.97, so dark inks come out faint. Not the ink's alpha, which the paste ignores.
   */
  inkStrength: number;
}

/** A glyph's draws, before it is placed. */
type GlyphDraws = Omit<DrawnGlyph, 'x' | 'left' | 'right' | 'inkStrength'>;

/** A glyph's draws and its box's edges in the image `createCaptchaImage` returns. */
type PlacedGlyph = GlyphDraws & Pick<DrawnGlyph, 'left' | 'right'>;

function checkInt(name: string, v: unknown, min: number, hint: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}; ${hint}`);
  }
  return v;
}

function checkRange(name: string, r: unknown, integer: boolean, min = -Infinity): Range {
  const ok =
    Array.isArray(r) &&
    r.length === 2 &&
    r.every((v) => typeof v === 'number' && Number.isFinite(v) && (!integer || Number.isInteger(v)) && v >= min) &&
    r[0] <= r[1];
  if (!ok) {
    throw new Error(
      `${name} must be [min, max] with min <= max${integer ? ', integers' : ''}${min > -Infinity ? ` >= ${min}` : ''}, got ${JSON.stringify(r)}`,
    );
  }
  return r as unknown as Range;
}

function checkColor(name: string, c: unknown, allowAlpha: boolean): number[] {
  const ok =
    Array.isArray(c) &&
    (c.length === 3 || (allowAlpha && c.length === 4)) &&
    c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
  if (!ok) {
    throw new Error(
      `${name} must be [r, g, b]${allowAlpha ? ' or [r, g, b, a]' : ''} with integers 0-255, got ${JSON.stringify(c)}`,
    );
  }
  return c as number[];
}

/** Checks options where they come in; returns them complete. */
export function resolveImageCaptchaOptions(options: ImageCaptchaOptions = {}): ResolvedImageCaptchaOptions {
  const { glyphAtlas: _atlas, ...rest } = options;
  const version = rest.version ?? DEFAULT_VERSION;
  if (!CAPTCHA_VERSIONS.includes(version)) {
    throw new Error(`version must be one of ${CAPTCHA_VERSIONS.map((v) => `'${v}'`).join(', ')}, got ${JSON.stringify(version)}`);
  }
  // Font sizes and spaces default to the version's own.
  const profile = CAPTCHA_VERSION_PROFILES[version];
  const defaults = { ...DEFAULT_IMAGE_CAPTCHA_OPTIONS, fontSizes: profile.fontSizes, wordSpaceProbability: profile.wordSpaceProbability ?? 0 };
  const o = withDefaults(defaults, rest);
  checkInt('width', o.width, 1, 'pass the image width in pixels, e.g. 160');
  checkInt('height', o.height, 1, 'pass the image height in pixels, e.g. 60');
  if (!Array.isArray(o.fonts) || o.fonts.length === 0) {
    throw new Error(`fonts must list at least one font file, got ${JSON.stringify(o.fonts)}; omit it for the default font`);
  }
  for (const f of o.fonts) {
    const p = typeof f === 'string' ? f : f?.path;
    if (typeof p !== 'string' || p.length === 0) throw new Error(`each font must be a file path, got ${JSON.stringify(f)}`);
  }
  if (!Array.isArray(o.fontSizes) || o.fontSizes.length === 0) {
    throw new Error(`fontSizes must list at least one size in px, got ${JSON.stringify(o.fontSizes)}; e.g. [42, 50, 56]`);
  }
  for (const s of o.fontSizes) {
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
      throw new Error(`font size ${JSON.stringify(s)} is not a positive number of pixels; use sizes such as 42, 50, 56`);
    }
  }
  expandAlphabet(o.alphabet);
  checkRange('characterOffsetDx', o.characterOffsetDx, true, 0);
  checkRange('characterOffsetDy', o.characterOffsetDy, true, 0);
  checkRange('characterRotate', o.characterRotate, false);
  checkRange('characterWarpDx', o.characterWarpDx, false);
  checkRange('characterWarpDy', o.characterWarpDy, false);
  const p = o.wordSpaceProbability;
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new Error(`wordSpaceProbability must be a number in [0, 1], got ${JSON.stringify(p)}`);
  }
  if (profile.wordSpaceProbability === null && p !== 0) {
    throw new Error(
      `wordSpaceProbability must be 0 with version '${version}', which draws no spaces (lepture added them in 0.3), got ${p}; ` +
        "omit it, or use version '0.7.0' for spaces",
    );
  }
  if (typeof o.wordOffsetDx !== 'number' || !(o.wordOffsetDx >= 0)) {
    throw new Error(`wordOffsetDx must be a number >= 0, got ${JSON.stringify(o.wordOffsetDx)}`);
  }
  checkInt('noiseDots', o.noiseDots, 0, 'pass how many noise dots to draw, e.g. 30');
  if (typeof o.noiseCurve !== 'boolean') throw new Error(`noiseCurve must be true or false, got ${JSON.stringify(o.noiseCurve)}`);
  return o as ResolvedImageCaptchaOptions;
}

/**
 * Draws lepture/captcha images.
 *
 * ```ts
 * const captcha = new ImageCaptcha({ version: '0.7.1' });
 * const image = captcha.generateImage('K9P3', createRng(42)); // { width: 160, height: 60, data: RGB bytes }
 * fs.writeFileSync('k9p3.png', encode(image, 'png'));
 * ```
 */
export class ImageCaptcha {
  /** The options in effect, defaults filled in. */
  readonly options: ResolvedImageCaptchaOptions;
  /** What the chosen version does differently. */
  readonly profile: Readonly<CaptchaVersionProfile>;
  /** The expanded alphabet. */
  readonly alphabet: string;
  private readonly fontInfo: LoadedFont[] | null;
  private atlas: GlyphAtlas | null;
  private faces: Array<Map<string, GlyphBitmap>> | null = null;
  private readonly chars: Set<string>;

  constructor(options: ImageCaptchaOptions = {}) {
    this.options = resolveImageCaptchaOptions(options);
    this.profile = CAPTCHA_VERSION_PROFILES[this.options.version];
    this.alphabet = expandAlphabet(this.options.alphabet);
    this.chars = new Set(Array.from(this.alphabet));
    this.atlas = options.glyphAtlas ?? null;
    if (this.atlas) {
      this.fontInfo = null;
      const n = this.options.fonts.length * this.options.fontSizes.length;
      if (!Array.isArray(this.atlas.faces) || this.atlas.faces.length !== n) {
        throw new Error(`glyphAtlas has ${this.atlas.faces?.length} faces but fonts x fontSizes needs ${n}; build it with the same options`);
      }
      for (const c of this.chars) {
        if (!this.atlas.faces.every((f) => f.glyphs[c])) throw new Error(`glyphAtlas lacks '${c}'; build it with the same alphabet`);
      }
    } else {
      // Font files are read here, so a missing file or glyph fails now rather than mid-dataset.
      this.fontInfo = this.options.fonts.map(loadFont);
      for (const f of this.fontInfo) {
        for (const c of [' ', ...this.chars]) {
          if (f.info.glyphIndex(c) === 0) {
            const cp = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
            throw new Error(
              `font '${f.spec.path}' cannot draw '${c}' (U+${cp}); remove it from the alphabet or pass a font that has it`,
            );
          }
        }
      }
    }
  }

  /**
   * The glyphs of every font x size for the alphabet, rendered on first call. Pass it as
   * `glyphAtlas` to build identical generators without fonts (worker threads).
   */
  glyphAtlas(): GlyphAtlas {
    if (!this.atlas) this.atlas = buildGlyphAtlas(this.fontInfo!, this.options.fontSizes, this.chars);
    return this.atlas;
  }

  private faceMaps(): Array<Map<string, GlyphBitmap>> {
    if (!this.faces) this.faces = this.glyphAtlas().faces.map((f) => new Map(Object.entries(f.glyphs)));
    return this.faces;
  }

  /** Throws a clear error unless `text` can be drawn. */
  checkText(text: string): void {
    if (typeof text !== 'string' || text.length === 0) {
      throw new Error(`text must be a non-empty string, got ${JSON.stringify(text)}; pass the characters to draw, e.g. 'K9P3'`);
    }
    for (const c of text) {
      if (!this.chars.has(c)) {
        throw new Error(
          `text '${text}' contains '${c}', which is not in the alphabet '${this.options.alphabet}'; ` +
            'use only those characters or set the alphabet option',
        );
      }
    }
  }

  /**
   * Draws `text` as lepture's `generate_image` does: background and ink colours, the characters
   * (each rotated, warped, resized, pasted with overlap), 30 noise dots, the noise arc, SMOOTH.
   * Random draws are taken from `rng` in the library's order.
   *
   * @param text characters to draw, all in the alphabet
   * @param rng the random source (e.g. `createRng(seed)`)
   * @returns RGB image, `width x height` (0.2.2 with `keepWidth`: possibly wider), `data` is
   *   `height * width * 3` bytes, row-major
   */
  generateImage(text: string, rng: RandomSource, options: GenerateImageOptions = {}): RgbImage {
    this.checkText(text);
    const bgIn = options.bgColor === undefined ? undefined : checkColor('bgColor', options.bgColor, false);
    const fgIn = options.fgColor === undefined ? undefined : checkColor('fgColor', options.fgColor, true);
    const faces = this.faceMaps();
    // 1. Colours. The random foreground is always drawn, opacity first (it is the argument).
    const background = bgIn ?? [rng.randbelow(18) + 238, rng.randbelow(18) + 238, rng.randbelow(18) + 238];
    const opacity = rng.randbelow(36) + 220;
    const inkMin = this.profile.inkMin;
    const ink = (): number => rng.randbelow(200 - inkMin + 1) + inkMin;
    const randomFg = [ink(), ink(), ink(), opacity];
    const color = fgIn ? [fgIn[0], fgIn[1], fgIn[2], fgIn[3] ?? 255] : randomFg;
    // 2. Characters onto the background.
    const drawn: PlacedGlyph[] | undefined = options.onGlyph ? [] : undefined;
    const image = this.createCaptchaImage(Array.from(text), color, background, rng, faces, drawn);
    // 3. Noise: dots, then the arc, on the image as drawn (0.2.2's may be wider), opaque, ink RGB only.
    const { width: W, height: H } = image;
    for (let i = 0; i < this.options.noiseDots; i++) {
      const x = rng.randbelow(W + 1);
      const y = rng.randbelow(H + 1);
      drawNoiseDot(image, x, y, color[0], color[1], color[2]);
    }
    if (this.options.noiseCurve) {
      const w5 = Math.trunc(W / 5);
      const h5 = Math.trunc(H / 5);
      const x1 = rng.randbelow(w5 + 1);
      const x2 = this.profile.arcEnd === 'past-left-fifth' ? rng.randbelow(W - w5 + 1) + w5 : rng.randbelow(w5 + 1) + (W - w5);
      // 0.2.2 writes randint(h / 5, ...), which Python 3 refuses for a height not divisible by 5;
      // int(h / 5), as Python 2 and lepture 0.2.3 have it, keeps every height usable.
      const y1 = rng.randbelow(H - 2 * h5 + 1) + h5;
      const y2 = rng.randbelow(H - y1 - h5 + 1) + y1;
      const end = rng.randbelow(41) + 160;
      const start = rng.randbelow(21);
      drawArc(image, [x1, y1, x2, y2], start, end, color[0], color[1], color[2]);
    }
    // 4. SMOOTH.
    const smoothed = smooth(image);
    // 0.2.2 leaves long texts wider than the width: bring them to one size unless asked not to.
    const result = smoothed.width > this.options.width && !options.keepWidth ? resizeRgb(smoothed, this.options.width, this.options.height, this.profile.resample) : smoothed;
    const strength = pasteStrength(color, this.profile.maskTable);
    const resized = result.width / smoothed.width;
    for (const g of drawn ?? []) options.onGlyph!({ ...g, x: ((g.left + g.right) / 2) * resized, left: g.left * resized, right: g.right * resized, inkStrength: strength });
    return result;
  }

  /**
   * `generateImage` encoded as a file's bytes (lepture's `generate`).
   * @param options colours, `format` ('png' default, or 'jpg') and JPEG `quality`
   */
  generate(text: string, rng: RandomSource, options: GenerateImageOptions & EncodeOptions & { format?: ImageFormat } = {}): Buffer {
    return encode(this.generateImage(text, rng, options), options.format ?? 'png', options);
  }

  /** `generate` written to `file`, atomically (lepture's `write`). */
  write(text: string, file: string, rng: RandomSource, options: GenerateImageOptions & EncodeOptions & { format?: ImageFormat } = {}): void {
    writeFileAtomic(file, this.generate(text, rng, options));
  }

  private createCaptchaImage(
    chars: string[],
    color: number[],
    background: number[],
    rng: RandomSource,
    faces: Array<Map<string, GlyphBitmap>>,
    drawn?: PlacedGlyph[],
  ): RgbImage {
    const { width: W, height: H, wordSpaceProbability, wordOffsetDx } = this.options;
    const spaces = this.profile.wordSpaceProbability !== null;
    const images: RgbaImage[] = [];
    const draws: GlyphDraws[] = [];
    const record = drawn ? (g: GlyphDraws) => draws.push(g) : undefined;
    for (const c of chars) {
      if (spaces && rng.random() > wordSpaceProbability) images.push(this.drawCharacter(' ', color, rng, faces, record));
      images.push(this.drawCharacter(c, color, rng, faces, record));
    }
    let textWidth = 0;
    for (const im of images) textWidth += im.width;
    const width = Math.max(textWidth, W);
    // lepture resizes the plain background to this width; a uniform image stays uniform under
    // bicubic and nearest resampling, so filling it directly gives the same bytes.
    const data = new Uint8Array(width * H * 3);
    for (let i = 0; i < data.length; i += 3) {
      data[i] = background[0];
      data[i + 1] = background[1];
      data[i + 2] = background[2];
    }
    let image: RgbImage = { width, height: H, data };
    const average = Math.trunc(textWidth / chars.length);
    const rand = Math.trunc(wordOffsetDx * average);
    let offset = Math.trunc(average * 0.1);
    const lefts: number[] = [];
    for (const im of images) {
      if (im.data.length > 0) pasteLumaMask(image, im, offset, Math.trunc((H - im.height) / 2), this.profile.maskTable);
      if (drawn) lefts.push(offset);
      offset = offset + im.width - rng.randbelow(rand + 1);
    }
    if (width > W && this.profile.squeeze) image = resizeRgb(image, W, H, this.profile.resample);
    const squeezed = image.width / width;
    // (draws is filled only when drawn is given)
    draws.forEach((g, i) => drawn!.push({ ...g, left: lefts[i] * squeezed, right: (lefts[i] + g.width) * squeezed }));
    return image;
  }

  /**
   * lepture's `_draw_character`: an RGBA image of exactly the character box. A blank result
   * (a space) comes back with empty `data`, after the same random draws.
   */
  private drawCharacter(c: string, color: number[], rng: RandomSource, faces: Array<Map<string, GlyphBitmap>>, record?: (draws: GlyphDraws) => void): RgbaImage {
    const o = this.options;
    const face = rng.randbelow(faces.length);
    const glyph = faces[face].get(c)!;
    const [w, h] = this.characterBox(glyph);
    const dx1 = rng.randbelow(o.characterOffsetDx[1] - o.characterOffsetDx[0] + 1) + o.characterOffsetDx[0];
    const dy1 = rng.randbelow(o.characterOffsetDy[1] - o.characterOffsetDy[0] + 1) + o.characterOffsetDy[0];
    const [r0, r1] = o.characterRotate;
    const angle = r0 + rng.random() * (r1 - r0);
    const [wx0, wx1] = o.characterWarpDx;
    const [wy0, wy1] = o.characterWarpDy;
    let dx2: number;
    let dy2: number;
    if (this.profile.warp === 'precedence-slip') {
      // 0.7.1's precedence slip: w * U * (max - min) + min.
      dx2 = w * rng.random() * (wx1 - wx0) + wx0;
      dy2 = h * rng.random() * (wy1 - wy0) + wy0;
    } else {
      dx2 = w * (wx0 + (wx1 - wx0) * rng.random());
      dy2 = h * (wy0 + (wy1 - wy0) * rng.random());
    }
    const x1 = Math.trunc(-dx2 + (dx2 - -dx2) * rng.random());
    const y1 = Math.trunc(-dy2 + (dy2 - -dy2) * rng.random());
    const x2 = Math.trunc(-dx2 + (dx2 - -dx2) * rng.random());
    const y2 = Math.trunc(-dy2 + (dy2 - -dy2) * rng.random());
    record?.({ char: c, fontSize: this.glyphAtlas().faces[face].size, angle, width: w, height: h });

    // Text on a fresh transparent canvas: RGB = ink wherever coverage > 0, A = ink alpha x coverage.
    const im = this.inkImage(glyph, color, w + dx1, h + dy1, dx1, dy1);
    if (im === null) return { width: w, height: h, data: new Uint8Array(0) };
    const w2 = w + Math.abs(x1) + Math.abs(x2);
    const h2 = h + Math.abs(y1) + Math.abs(y2);
    const quad = [x1, y1, -x1, h2 - y2, w2 + x2, h2 + y2, w2 - x2, -y1];
    // = im.rotate(angle, BILINEAR, expand=True).resize((w2, h2)).transform((w, h), QUAD, quad)
    return warpGlyph(im, angle, w2, h2, w, h, quad, this.profile.resample);
  }

  /**
   * The `(w, h)` lepture gives a character: `multiline_textbbox((1, 1))`'s right and bottom, or for
   * 0.2.2 `textsize`, which is the ink-or-advance width from the leftmost ink (Pillow 9.4's
   * `getsize`) and one px less in height: for DroidSansMono's 0-9A-Z one less each way.
   */
  private characterBox(glyph: GlyphBitmap): [number, number] {
    if (this.profile.glyphBox === 'textbbox') return [glyph.boxWidth, glyph.boxHeight];
    return [glyph.boxWidth - 1 - Math.min(0, glyph.left), glyph.boxHeight - 1];
  }

  /** The glyph drawn at (dx, dy) on a `cw x ch` canvas, cropped to its alpha box; null if blank. */
  private inkImage(glyph: GlyphBitmap, color: number[], cw: number, ch: number, dx: number, dy: number): RgbaImage | null {
    if (glyph.width === 0) return null;
    // Clip the ink rectangle to the canvas, as Pillow's paste of the glyph mask does.
    const gx0 = Math.max(0, -(dx + glyph.left));
    const gy0 = Math.max(0, -(dy + glyph.top));
    const gx1 = Math.min(glyph.width, cw - (dx + glyph.left));
    const gy1 = Math.min(glyph.height, ch - (dy + glyph.top));
    if (gx1 <= gx0 || gy1 <= gy0) return null;
    const w = gx1 - gx0;
    const h = gy1 - gy0;
    const [r, g, b, a] = color;
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      let s = (gy0 + y) * glyph.width + gx0;
      let d = y * w * 4;
      for (let x = 0; x < w; x++, s++, d += 4) {
        const m = glyph.coverage[s];
        if (m === 0) continue;
        data[d] = r;
        data[d + 1] = g;
        data[d + 2] = b;
        data[d + 3] = div255(a * m);
      }
    }
    const im = { width: w, height: h, data };
    const box = alphaBBox(im);
    if (box === null) return null;
    return box[0] === 0 && box[1] === 0 && box[2] === w && box[3] === h ? im : crop(im, box);
  }
}
