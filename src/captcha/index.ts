/** The CAPTCHA generator: a seeded, fast port of lepture/captcha's ImageCaptcha. */
export {
  ImageCaptcha,
  DEFAULT_IMAGE_CAPTCHA_OPTIONS,
  CAPTCHA_SIDE,
  isCaptchaSide,
  CAPTCHA_VERSIONS,
  CAPTCHA_VERSION_PROFILES,
  resolveImageCaptchaOptions,
  type ImageCaptchaOptions,
  type ResolvedImageCaptchaOptions,
  type GenerateImageOptions,
  type DrawnGlyph,
  type CaptchaVersion,
  type CaptchaVersionProfile,
  type Range,
  type RgbColor,
  type RgbaColor,
} from './image-captcha';
export { createRng, deriveSeed, type Rng, type RandomSource, type Seed } from './rng';
export { replayDraws, readReplayFile, type RecordedDraw, type ReplaySource, type ReplayCase } from './replay';
export {
  randomText,
  drawText,
  expandAlphabet,
  lengthRange,
  resolveTextOptions,
  DEFAULT_RANDOM_TEXT_OPTIONS,
  type RandomTextOptions,
} from './text';
export { encode, checkFormat, IMAGE_FORMATS, DEFAULT_ENCODE_OPTIONS, type ImageFormat, type EncodeOptions } from './encode';
export { DEFAULT_FONT, type FontSpec, type GlyphAtlas, type GlyphFace, type GlyphBitmap } from './glyphs';
export { canvasOfSize, loadCanvas } from './canvas';
export type { RgbImage, RgbaImage, ResampleFilter } from './raster';
/** The Pillow 9.4 primitives the generator is built from, bit-exact (resize, rotate, QUAD, paste, arc, SMOOTH). */
export * as pillow from './raster';
