/**
 * A grid of CAPTCHA images with captions under each, drawn with node-canvas into one PNG:
 * samples with their text, or test images with "true:" / "predict:" lines and misreads in red.
 */
import type { Canvas, Image } from 'canvas';
// The generator's lazy loader: it sets the generator's font hinting before fontconfig starts,
// which happens at the first text drawn in the process, possibly by this grid.
import { loadCanvas, type RgbImage } from '../captcha';

export type { RgbImage };

/** One cell of the grid. */
export interface GridItem {
  /** A PNG/JPEG file path, PNG/JPEG bytes, or decoded RGB pixels. */
  image: string | Uint8Array | RgbImage;
  /** Caption lines under the image. */
  caption: readonly string[];
  /** Draw this cell's frame and caption in the highlight colour (a misread). @default false */
  highlight?: boolean;
}

export interface GridOptions {
  /** Images per row. @default 4 */
  columns?: number;
  /** Width and height of each image cell in pixels; images are scaled to fit. @default the first image's size */
  cellWidth?: number;
  cellHeight?: number;
  /** Caption font size in pixels. @default 14 */
  fontSize?: number;
  /** Space around each cell in pixels. @default 8 */
  padding?: number;
  /** Colour of highlighted frames and captions. @default '#d62728' */
  highlightColor?: string;
}

export const DEFAULT_GRID_OPTIONS: Required<Omit<GridOptions, 'cellWidth' | 'cellHeight'>> = {
  columns: 4,
  fontSize: 14,
  padding: 8,
  highlightColor: '#d62728',
};

/** Where everything goes: pure arithmetic, so the PNG's size can be known (and tested) up front. */
export interface GridLayout {
  columns: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  lineHeight: number;
  captionLines: number;
  /** Size of one slot: cell, caption and padding on every side. */
  slotWidth: number;
  slotHeight: number;
  width: number;
  height: number;
}

export function gridLayout(
  count: number,
  cell: { width: number; height: number },
  captionLines: number,
  options: GridOptions = {},
): GridLayout {
  const opts = { ...DEFAULT_GRID_OPTIONS, ...options };
  if (!Number.isInteger(opts.columns) || opts.columns < 1) throw new Error(`columns=${opts.columns} must be a whole number >= 1`);
  if (!(opts.fontSize > 0)) throw new Error(`fontSize=${opts.fontSize} must be > 0`);
  if (!(opts.padding >= 0)) throw new Error(`padding=${opts.padding} must be >= 0`);
  const columns = Math.min(opts.columns, Math.max(1, count));
  const rows = Math.max(1, Math.ceil(count / columns));
  const lineHeight = Math.ceil(opts.fontSize * 1.3);
  const slotWidth = cell.width + 2 * opts.padding;
  const slotHeight = cell.height + captionLines * lineHeight + 2 * opts.padding;
  return {
    columns,
    rows,
    cellWidth: cell.width,
    cellHeight: cell.height,
    lineHeight,
    captionLines,
    slotWidth,
    slotHeight,
    width: columns * slotWidth,
    height: rows * slotHeight,
  };
}

type Drawable = Image | Canvas;

async function toDrawable(image: GridItem['image']): Promise<Drawable> {
  const { createCanvas, loadImage } = loadCanvas();
  if (typeof image === 'string' || image instanceof Uint8Array) {
    try {
      return await loadImage(typeof image === 'string' ? image : Buffer.from(image));
    } catch (err) {
      const what = typeof image === 'string' ? `'${image}'` : `${image.length} bytes`;
      throw new Error(`cannot draw image ${what}: ${(err as Error).message}; pass a PNG/JPEG file, its bytes or RGB pixels`);
    }
  }
  const { width, height, data } = image;
  if (data.length !== width * height * 3) {
    throw new Error(`RGB image of ${width}x${height} needs ${width * height * 3} bytes, got ${data.length}`);
  }
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const rgba = ctx.createImageData(width, height);
  for (let i = 0, j = 0; i < data.length; i += 3, j += 4) {
    rgba.data[j] = data[i];
    rgba.data[j + 1] = data[i + 1];
    rgba.data[j + 2] = data[i + 2];
    rgba.data[j + 3] = 255;
  }
  ctx.putImageData(rgba, 0, 0);
  return canvas;
}

/**
 * Draws the items row by row into one PNG. Images keep their aspect ratio inside equal cells.
 * @returns PNG bytes, `gridLayout(items.length, cell, maxCaptionLines, options)` pixels large
 */
export async function renderGrid(items: readonly GridItem[], options: GridOptions = {}): Promise<Buffer> {
  if (items.length === 0) throw new Error('nothing to draw: the grid needs at least one image');
  const opts = { ...DEFAULT_GRID_OPTIONS, ...options };
  const { createCanvas } = loadCanvas();
  const images = await Promise.all(items.map((item) => toDrawable(item.image)));
  const cell = { width: opts.cellWidth ?? images[0].width, height: opts.cellHeight ?? images[0].height };
  const captionLines = Math.max(...items.map((item) => item.caption.length));
  const layout = gridLayout(items.length, cell, captionLines, opts);
  const canvas = createCanvas(layout.width, layout.height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, layout.width, layout.height);
  ctx.font = `${opts.fontSize}px "DejaVu Sans Mono", monospace`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  items.forEach((item, i) => {
    const x0 = (i % layout.columns) * layout.slotWidth + opts.padding;
    const y0 = Math.floor(i / layout.columns) * layout.slotHeight + opts.padding;
    const img = images[i];
    const scale = Math.min(cell.width / img.width, cell.height / img.height);
    const w = img.width * scale;
    const h = img.height * scale;
    ctx.drawImage(img, x0 + (cell.width - w) / 2, y0 + (cell.height - h) / 2, w, h);
    if (item.highlight) {
      ctx.strokeStyle = opts.highlightColor;
      ctx.lineWidth = 3;
      ctx.strokeRect(x0 - 1.5, y0 - 1.5, cell.width + 3, cell.height + 3);
    }
    ctx.fillStyle = item.highlight ? opts.highlightColor : '#222222';
    item.caption.forEach((line, k) => ctx.fillText(line, x0 + cell.width / 2, y0 + cell.height + 3 + k * layout.lineHeight));
  });
  return canvas.toBuffer('image/png');
}

/** Labelled image files (e.g. `listLabeledFiles(dir, alphabet)`) with their text as the caption. */
export function sampleGridItems(files: ReadonlyArray<{ file: string; label: string }>): GridItem[] {
  return files.map((f) => ({ image: f.file, caption: [f.label] }));
}

/**
 * The original experiment's prediction grid: "true: K9P3" / "predict: K9P3" under each image,
 * misreads highlighted; the first `limit` images.
 */
export function predictionGridItems(
  images: readonly GridItem['image'][],
  actual: readonly string[],
  predicted: readonly string[],
  limit = Infinity,
): GridItem[] {
  if (images.length !== actual.length || images.length !== predicted.length) {
    throw new Error(`${images.length} images, ${actual.length} true texts and ${predicted.length} predictions: the counts must match`);
  }
  return images.slice(0, limit).map((image, i) => ({
    image,
    caption: [`true: ${actual[i]}`, `predict: ${predicted[i]}`],
    highlight: actual[i] !== predicted[i],
  }));
}

/**
 * A gallery of misread images: "true:" / "predict:" captions, the wrong positions marked with `^`
 * under the prediction.
 * @param images one per evaluated image, in the order `misreads[].index` refers to
 */
export function misreadGridItems(
  images: readonly GridItem['image'][],
  misreads: ReadonlyArray<{ index: number; actual: string; predicted: string }>,
  limit = 24,
): GridItem[] {
  return misreads.slice(0, limit).map((m) => {
    if (m.index < 0 || m.index >= images.length) throw new Error(`misread index ${m.index} is outside the ${images.length} images`);
    const width = Math.max(m.actual.length, m.predicted.length);
    let marks = '';
    for (let p = 0; p < width; p++) marks += m.actual[p] === m.predicted[p] ? ' ' : '^';
    return { image: images[m.index], caption: [`true: ${m.actual}`, `predict: ${m.predicted}`, `         ${marks}`], highlight: true };
  });
}

/**
 * 0 and O as the font draws them and as lepture draws them (`roundGlyphLooks`), captioned with
 * the look and the ink's size; the characters named in words, since in the caption's monospaced
 * font 0 and O look alike too. Four cells a version: a row each with `columns: 4`.
 */
export function roundGlyphLookItems(looks: ReadonlyArray<{ version: string; char: string; look: string; image: RgbImage; ink: { width: number; height: number } }>): GridItem[] {
  return looks.map((g) => ({ image: g.image, caption: [`${g.version} ${g.look}`, `${g.char === '0' ? 'digit 0' : g.char === 'O' ? 'letter O' : g.char}, ${g.ink.width} x ${g.ink.height}`] }));
}
