/**
 * Out-of-core loading of a dataset folder (`0.jpg ... N-1.jpg` + `labels.txt`, as written by
 * `captcha-lab generate`): images are decoded batch by batch, so a dataset need not fit in memory.
 */
import type { RgbImage } from '../captcha';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { MANIFEST_FILE } from './dataset-writer';
import { decodeImageFile, type DecodeImageOptions } from './image-file';
import { checkLabelLengths, datasetImageLayout, encodeLabels, readLabels } from './labels';
import { pixelsToTensor, splitPackedImages, type InputShape } from './tensors';

export interface FolderDatasetOptions {
  /** The dataset folder. */
  dir: string;
  /** Classes, in label-index order. */
  alphabet: string;
  /** Model input; images of another size are refused unless `resize` is set. */
  input: InputShape;
  /** Resize images whose size differs from `input` instead of failing. @default false */
  resize?: boolean;
}

/** A batch ready for training or evaluation. Dispose `xs` and `ys` when done. */
export interface LabeledBatch {
  /** float32 [B, H, W, C], 0-1 */
  xs: tf.Tensor4D;
  /** int32 [B, length]: class index per position (per-position models) */
  ys: tf.Tensor2D;
  texts: string[];
  indices: number[];
  /** Each image's size on disk, before fitting to the input. */
  sizes: { width: number; height: number }[];
  /** The images as decoded, before fitting (views of one buffer; a model's second look at 0/O reads them). */
  images: RgbImage[];
}

/**
 * How images of a dataset folder are decoded: too-small images are refused when they would be
 * resized, and a damaged image's error says how to repair the folder. A folder written by
 * `captcha-lab generate` is repaired by rerunning the same command: the rerun decodes every image
 * it keeps and regenerates damaged ones.
 */
function decodeOptions({ dir, input, resize }: FolderDatasetOptions): DecodeImageOptions {
  const fix = fs.existsSync(path.join(dir, MANIFEST_FILE))
    ? `repair the dataset by rerunning the \`captcha-lab generate --out ${dir}\` that made it, with the same options ` +
      `(${path.join(dir, MANIFEST_FILE)} records them): a rerun keeps intact images and regenerates damaged ones`
    : 'replace it with an intact copy';
  return { fix, input: resize ? input : undefined };
}

export class FolderDataset {
  private constructor(
    readonly options: FolderDatasetOptions,
    readonly texts: string[],
    readonly extension: string,
    readonly imageSize: { height: number; width: number },
  ) {}

  get size(): number {
    return this.texts.length;
  }

  /** Label length (all labels of a per-position dataset have the same length). */
  get labelLength(): number {
    return this.texts[0].length;
  }

  /**
   * Opens a folder: reads and checks every line of labels.txt (characters, one length for all),
   * finds the image format, checks the first image's size. Images are checked as they are decoded.
   */
  static async open(options: FolderDatasetOptions): Promise<FolderDataset> {
    const { dir, alphabet, input } = options;
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new Error(`dataset folder '${dir}' does not exist; create it with \`captcha-lab generate --out ${dir}\``);
    }
    const layout = datasetImageLayout(dir);
    if (!layout) throw new Error(`'${dir}' has no 0.jpg or 0.png; is it a dataset folder?`);
    const { extension } = layout;
    const texts = readLabels(dir, alphabet, layout.count);
    checkLabelLengths(dir, texts);
    const first = await decodeImageFile(path.join(dir, `0.${extension}`), decodeOptions(options));
    const ds = new FolderDataset(options, texts, extension, { height: first.height, width: first.width });
    if (!options.resize && (first.height !== input.height || first.width !== input.width)) {
      throw new Error(
        `images in '${dir}' are ${first.width}x${first.height} but the model reads ${input.width}x${input.height}; ` +
          'generate the dataset at that size or enable resizing (--resize)',
      );
    }
    return ds;
  }

  imagePath(index: number): string {
    return path.join(this.options.dir, `${index}.${this.extension}`);
  }

  /** Decodes the images at `indices` into one batch. */
  async loadBatch(indices: readonly number[]): Promise<LabeledBatch> {
    const { height, width } = this.imageSize;
    const rgb = new Uint8Array(indices.length * height * width * 3);
    const decoding = decodeOptions(this.options);
    await Promise.all(
      indices.map(async (index, k) => {
        const file = this.imagePath(index);
        const img = await decodeImageFile(file, decoding);
        if (img.height !== height || img.width !== width) {
          throw new Error(`image '${file}' is ${img.width}x${img.height}, unlike the dataset's ${width}x${height}; ${decoding.fix}`);
        }
        rgb.set(img.data, k * height * width * 3);
      }),
    );
    const texts = indices.map((i) => this.texts[i]);
    const xs = pixelsToTensor(rgb, indices.length, height, width, this.options.input);
    const ys = tf.tensor2d(encodeLabels(texts, this.options.alphabet, texts[0].length), [indices.length, texts[0].length], 'int32');
    const images = splitPackedImages(rgb, indices.length, height, width);
    return { xs, ys, texts, indices: [...indices], sizes: indices.map(() => ({ width, height })), images };
  }

  /**
   * Batches over `indices` in the given order; the next batch is decoded while the caller trains
   * on the current one.
   */
  async *batches(indices: readonly number[], batchSize: number): AsyncGenerator<LabeledBatch> {
    const chunks: number[][] = [];
    for (let i = 0; i < indices.length; i += batchSize) chunks.push(indices.slice(i, i + batchSize));
    let pending = chunks.length ? this.loadBatch(chunks[0]) : undefined;
    for (let c = 0; c < chunks.length; c++) {
      const batch = await (pending as Promise<LabeledBatch>);
      pending = c + 1 < chunks.length ? this.loadBatch(chunks[c + 1]) : undefined;
      // A failed prefetch must not become an unhandled rejection if the consumer stops early.
      pending?.catch(() => undefined);
      yield batch;
    }
  }
}
