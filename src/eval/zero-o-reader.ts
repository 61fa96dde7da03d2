/**
 * A second look at 0 and O. The CRNN reads a CAPTCHA through its input (160x60, letterboxed), and
 * its 0-against-O lean changes with the image's size and version (docs/pretrained.md). A small
 * classifier that sees only the round glyph, cut out of the original image at its own resolution,
 * answers that one question instead: the CRNN's output says where the glyph is (the frames that
 * hold the 0/O probability), `cropAround` cuts a fixed window around it, and the reader's answer
 * replaces the CRNN's 0 or O.
 *
 * Only texts with exactly one round glyph are looked at again: with both, distinct decoding has
 * already placed one of each.
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../captcha';
import { letterboxBox, type InputShape } from '../data/tensors';

/** The two characters the reader tells apart: label 0 is '0', label 1 is 'O'. */
export const ROUND_PAIR = ['0', 'O'] as const;

/** The window cut around a round glyph, px of the original image: wide enough for 0.2.2's largest glyph (42 px) and some slack. */
export const ZERO_O_CROP = { width: 56, height: 80 } as const;

/**
 * Where the one round glyph is in a CTC output: the frame with the most 0 + O probability, refined
 * to the probability-weighted mean of the frames within 2 of it. Null when no frame gives 0 or O
 * even 5%.
 * @param probs softmax output of one image, [steps, classes] row-major
 */
export function roundGlyphFrame(probs: ArrayLike<number>, steps: number, classes: number, alphabet: string): number | null {
  const [zero, oh] = ROUND_PAIR.map((c) => alphabet.indexOf(c));
  if (zero < 0 || oh < 0) throw new Error(`the alphabet '${alphabet}' lacks 0 or O; the second look reads only models that have both`);
  if (probs.length !== steps * classes) throw new Error(`expected ${steps}x${classes} probabilities, got ${probs.length}`);
  const mass = (t: number) => probs[t * classes + zero] + probs[t * classes + oh];
  let best = 0;
  for (let t = 1; t < steps; t++) if (mass(t) > mass(best)) best = t;
  if (mass(best) < 0.05) return null;
  let [sum, weighted] = [0, 0];
  for (let t = Math.max(0, best - 2); t <= Math.min(steps - 1, best + 2); t++) [sum, weighted] = [sum + mass(t), weighted + mass(t) * t];
  return weighted / sum;
}

/**
 * The column of the original image that output frame `frame` looks at: its centre in the model's
 * input, mapped back through the fit (letterbox: scale and offset; stretch: scale).
 */
export function frameToSourceX(frame: number, steps: number, input: InputShape, source: { width: number; height: number }): number {
  const x = ((frame + 0.5) * input.width) / steps;
  if ((input.fit ?? 'stretch') === 'stretch') return (x * source.width) / input.width;
  const box = letterboxBox(source.width, source.height, input);
  return ((x - box.left) * source.width) / box.width;
}

/**
 * A `ZERO_O_CROP` window of `image` centred on column `cx`, as grey ink strength 0-255: the
 * lightest pixel of the window (the background) is 0, the darkest 255, so ink colour does not
 * matter. Outside the image counts as background; images taller than the window lose their top
 * and bottom rows equally.
 */
export function cropAround(image: RgbImage, cx: number): Uint8Array {
  const { width: cw, height: ch } = ZERO_O_CROP;
  const left = Math.round(cx - cw / 2);
  const top = Math.floor((image.height - ch) / 2);
  const grey = new Float32Array(cw * ch).fill(NaN);
  let [lightest, darkest] = [-Infinity, Infinity];
  for (let y = 0; y < ch; y++) {
    const sy = top + y;
    if (sy < 0 || sy >= image.height) continue;
    for (let x = 0; x < cw; x++) {
      const sx = left + x;
      if (sx < 0 || sx >= image.width) continue;
      const i = (sy * image.width + sx) * 3;
      const g = 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
      grey[y * cw + x] = g;
      [lightest, darkest] = [Math.max(lightest, g), Math.min(darkest, g)];
    }
  }
  const out = new Uint8Array(cw * ch);
  if (lightest === -Infinity) return out;
  const range = Math.max(16, lightest - darkest);
  for (let i = 0; i < out.length; i++) out[i] = Number.isNaN(grey[i]) ? 0 : Math.round((255 * (lightest - grey[i])) / range);
  return out;
}

/** Crops as the reader's input: float32 [n, 80, 56, 1] in 0-1. */
export function cropsToTensor(crops: Uint8Array, count: number): tf.Tensor4D {
  const { width, height } = ZERO_O_CROP;
  if (crops.length !== count * width * height) throw new Error(`expected ${count} crops of ${width}x${height}, got ${crops.length} bytes`);
  return tf.tidy(() => tf.tensor4d(crops, [count, height, width, 1], 'int32').toFloat().div(255) as tf.Tensor4D);
}

/**
 * The reader: a small VGG-like binary classifier (four 3x3 conv + 2x2 max-pool stages, a dense
 * layer) whose sigmoid output is the probability of 'O'.
 */
export function createZeroOReader(seed = 1): tf.Sequential {
  const model = tf.sequential();
  const { width, height } = ZERO_O_CROP;
  [24, 48, 96, 96].forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        ...(i === 0 ? { inputShape: [height, width, 1] } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }));
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 96, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 10 }) }));
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 11 }) }));
  return model;
}

/** Where each text's one round glyph is, in its original image: [text index, source column, character index]. */
export function roundGlyphSites(
  texts: readonly string[],
  probs: Float32Array,
  steps: number,
  classes: number,
  alphabet: string,
  input: InputShape,
  sizes: ReadonlyArray<{ width: number; height: number }>,
): Array<{ index: number; x: number; position: number }> {
  const sites: Array<{ index: number; x: number; position: number }> = [];
  texts.forEach((text, i) => {
    const positions = [...text].flatMap((c, k) => ((ROUND_PAIR as readonly string[]).includes(c) ? [k] : []));
    if (positions.length !== 1) return;
    const frame = roundGlyphFrame(probs.subarray(i * steps * classes, (i + 1) * steps * classes), steps, classes, alphabet);
    if (frame === null) return;
    sites.push({ index: i, x: frameToSourceX(frame, steps, input, sizes[i]), position: positions[0] });
  });
  return sites;
}

/**
 * The texts with each lone 0 or O replaced by the reader's answer.
 * @param logits the CTC output the texts were decoded from, [B, T, classes]
 * @param images the batch's images before they were fitted to the model input
 */
export async function secondLookAtZeroO(
  texts: readonly string[],
  logits: tf.Tensor3D,
  images: readonly RgbImage[],
  input: InputShape,
  alphabet: string,
  reader: tf.LayersModel,
): Promise<string[]> {
  if (images.length !== texts.length) throw new Error(`the second look needs the ${texts.length} original images of the batch, got ${images.length}`);
  const [, steps, classes] = logits.shape;
  const probsTensor = tf.softmax(logits);
  const probs = (await probsTensor.data()) as Float32Array;
  probsTensor.dispose();
  const sites = roundGlyphSites(texts, probs, steps, classes, alphabet, input, images);
  if (sites.length === 0) return [...texts];
  const crops = new Uint8Array(sites.length * ZERO_O_CROP.width * ZERO_O_CROP.height);
  sites.forEach((s, j) => crops.set(cropAround(images[s.index], s.x), j * ZERO_O_CROP.width * ZERO_O_CROP.height));
  const p = tf.tidy(() => reader.predict(cropsToTensor(crops, sites.length)) as tf.Tensor);
  const answers = await p.data();
  p.dispose();
  const out = [...texts];
  sites.forEach((s, j) => {
    const chars = [...out[s.index]];
    chars[s.position] = answers[j] > 0.5 ? ROUND_PAIR[1] : ROUND_PAIR[0];
    out[s.index] = chars.join('');
  });
  return out;
}
