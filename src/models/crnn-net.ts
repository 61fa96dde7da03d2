/**
 * `crnn`: a convolutional network that reads a CAPTCHA as a sequence of column features and is
 * trained with CTC, so it needs no fixed number of characters.
 *
 * 1. Conv blocks (3x3 conv without bias -> batch norm -> ReLU -> max-pool). The first blocks pool
 *    2x2; the later ones pool only the height (2x1), so the width keeps enough resolution for one
 *    output step per few pixel columns (T = width / 4 = 40 for 160-px images, ~10 steps per
 *    character of a 4-character CAPTCHA; CTC needs at least one per character plus one per repeat).
 * 2. The feature map [H', W', F] is turned into a sequence over the width, [W', H' * F].
 * 3. A sequence head mixes neighbouring columns: 1-D convolutions (default: fastest on tfjs-node),
 *    a bidirectional GRU, or per-column dense layers.
 * 4. A per-step dense layer gives logits over the characters plus the CTC blank (the last class).
 */
import * as tf from '@tensorflow/tfjs';
import { ctcGreedyDecode, ctcIndicesToText, ctcLoss, type CtcLabels, type CtcLossOptions } from './ctc';
import { SeededDropout } from './seeded-dropout';
import { withDefaults } from '../options';

/** The sequence layers between the convolutional features and the output. */
export type CrnnHead = 'conv1d' | 'bigru' | 'dense';

export interface CrnnNetOptions {
  /**
   * Input height in pixels. 64 rather than the images' 60 so four 2x poolings divide it evenly;
   * 60-px images work too (the pooled height is floored) or can be padded/resized to 64.
   * @default 64
   */
  height: number;
  /** Input width in pixels. @default 160 */
  width: number;
  /** 1 for grayscale (colour carries no information about the text here), 3 for RGB. @default 1 */
  channels: number;
  /** Number of characters in the alphabet; the output has one more class, the CTC blank. @default 36 */
  numClasses: number;
  /** Seed of the weight initialisers (and of the dropout masks, if any). @default 1 */
  seed: number;
  /** Filters of each conv block. @default [32, 64, 128, 128] */
  filters: number[];
  /**
   * Max-pool size [height, width] after each conv block (same length as `filters`). The product
   * of the widths sets the output length T = width / product.
   * @default [[2, 2], [2, 2], [2, 1], [2, 1]]
   */
  pools: [number, number][];
  /** Sequence head. @default 'conv1d' */
  head: CrnnHead;
  /** Filters (conv1d), units per direction (bigru) or units (dense) of each head layer. @default 256 */
  headUnits: number;
  /** Number of head layers. @default 2 */
  headLayers: number;
  /** Kernel size of the conv1d head's layers, in output steps. @default 3 */
  headKernelSize: number;
  /**
   * Units of a summary of the whole image given to every output step (0: none). With the default
   * pools and conv1d head, each step sees about 42 input px, one glyph and a bit, while lepture
   * squeezes the whole text into the image's width: how wide a 0 or an O comes out depends on the
   * other glyphs and the image's size, which no step sees. With `globalContext`, the mean of the
   * column features over all steps goes through a dense layer (ReLU) and is appended to each
   * step's features before the head.
   * @default 0
   */
  globalContext: number;
  /**
   * Dropout rate before the output layer. 0 because training draws fresh images every epoch,
   * so there is nothing to overfit; >0 adds a SeededDropout layer.
   * @default 0
   */
  dropout: number;
}

export const DEFAULT_CRNN_NET_OPTIONS: CrnnNetOptions = {
  height: 64,
  width: 160,
  channels: 1,
  numClasses: 36,
  seed: 1,
  filters: [32, 64, 128, 128],
  pools: [
    [2, 2],
    [2, 2],
    [2, 1],
    [2, 1],
  ],
  head: 'conv1d',
  headUnits: 256,
  headLayers: 2,
  headKernelSize: 3,
  globalContext: 0,
  dropout: 0,
};

function resolve(options: Partial<CrnnNetOptions>): CrnnNetOptions {
  const o = withDefaults(DEFAULT_CRNN_NET_OPTIONS, options);
  for (const key of ['height', 'width', 'channels', 'numClasses', 'headUnits', 'headLayers', 'headKernelSize'] as const) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) {
      throw new Error(`createCrnnNet: ${key}=${o[key]} must be a positive integer`);
    }
  }
  if (o.filters.length === 0 || o.filters.some((f) => !Number.isInteger(f) || f <= 0)) {
    throw new Error(`createCrnnNet: filters=[${o.filters}] must be a non-empty list of positive integers`);
  }
  if (o.pools.length !== o.filters.length) {
    throw new Error(
      `createCrnnNet: pools has ${o.pools.length} entries but filters has ${o.filters.length}; give one [h, w] pool per conv block`,
    );
  }
  let h = o.height;
  let w = o.width;
  for (const [ph, pw] of o.pools) {
    if (!(Number.isInteger(ph) && Number.isInteger(pw) && ph >= 1 && pw >= 1)) {
      throw new Error(`createCrnnNet: pool [${ph}, ${pw}] must be two positive integers`);
    }
    h = Math.floor(h / ph);
    w = Math.floor(w / pw);
  }
  if (h < 1 || w < 1) {
    throw new Error(
      `createCrnnNet: a ${o.height}x${o.width} input pools down to ${h}x${w}; use a larger input or fewer/smaller pools`,
    );
  }
  if (!(Number.isInteger(o.globalContext) && o.globalContext >= 0)) {
    throw new Error(`createCrnnNet: globalContext=${o.globalContext} must be a whole number of units, 0 for none`);
  }
  if (!(o.dropout >= 0 && o.dropout < 1)) {
    throw new Error(`createCrnnNet: dropout=${o.dropout} must be in [0, 1)`);
  }
  switch (o.head) {
    case 'conv1d':
    case 'bigru':
    case 'dense':
      break;
    default:
      throw new Error(`createCrnnNet: head '${String(o.head)}' is not one of 'conv1d', 'bigru', 'dense'`);
  }
  return o;
}

/** Number of output steps T for these options (input width divided by the width pooling). */
export function crnnTimeSteps(options: Partial<CrnnNetOptions> = {}): number {
  const o = resolve(options);
  return o.pools.reduce((w, [, pw]) => Math.floor(w / pw), o.width);
}

/**
 * Builds the (uncompiled) CRNN. Train it with `crnnLoss` inside `optimizer.minimize`; read it with
 * `ctcGreedyDecode` / `crnnDecode`.
 *
 * Input: float32 [B, height, width, channels], pixels scaled to 0-1.
 * Output `logits`: float32 [B, T, numClasses + 1], unnormalised; class numClasses is the blank.
 */
export function createCrnnNet(options: Partial<CrnnNetOptions> = {}): tf.LayersModel {
  const o = resolve(options);
  let seed = o.seed;
  const heNormal = () => tf.initializers.heNormal({ seed: seed++ });
  const glorot = () => tf.initializers.glorotUniform({ seed: seed++ });

  const input = tf.input({ shape: [o.height, o.width, o.channels], name: 'image' });
  let x: tf.SymbolicTensor = input;
  // 1. Conv blocks. No conv bias: the batch norm's beta replaces it.
  o.filters.forEach((filters, i) => {
    x = tf.layers
      .conv2d({ filters, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: heNormal(), name: `conv${i + 1}` })
      .apply(x) as tf.SymbolicTensor;
    x = tf.layers.batchNormalization({ name: `bn${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ name: `relu${i + 1}` }).apply(x) as tf.SymbolicTensor;
    const [ph, pw] = o.pools[i];
    if (ph > 1 || pw > 1) {
      x = tf.layers.maxPooling2d({ poolSize: [ph, pw], strides: [ph, pw], name: `pool${i + 1}` }).apply(x) as tf.SymbolicTensor;
    }
  });
  // 2. [B, H', W', F] -> [B, W', H' * F]: one feature vector per pooled column.
  const [, hOut, wOut, fOut] = x.shape as number[];
  x = tf.layers.permute({ dims: [2, 1, 3], name: 'columns' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [wOut, hOut * fOut], name: 'sequence' }).apply(x) as tf.SymbolicTensor;
  // 2b. The whole image's summary beside each column (appended last, so a model without it embeds
  // in this one with zero weights on the summary: see `embedWeights`).
  if (o.globalContext > 0) {
    let context = tf.layers.globalAveragePooling1d({ name: 'context_pool' }).apply(x) as tf.SymbolicTensor;
    context = tf.layers.dense({ units: o.globalContext, activation: 'relu', kernelInitializer: heNormal(), name: 'context' }).apply(context) as tf.SymbolicTensor;
    context = tf.layers.repeatVector({ n: wOut, name: 'context_repeat' }).apply(context) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ axis: -1, name: 'with_context' }).apply([x, context]) as tf.SymbolicTensor;
  }
  // 3. Sequence head.
  for (let i = 0; i < o.headLayers; i++) {
    const name = `head${i + 1}`;
    switch (o.head) {
      case 'conv1d':
        x = tf.layers
          .conv1d({
            filters: o.headUnits,
            kernelSize: o.headKernelSize,
            padding: 'same',
            useBias: false,
            kernelInitializer: heNormal(),
            name,
          })
          .apply(x) as tf.SymbolicTensor;
        x = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(x) as tf.SymbolicTensor;
        x = tf.layers.reLU({ name: `${name}_relu` }).apply(x) as tf.SymbolicTensor;
        break;
      case 'bigru':
        x = tf.layers
          .bidirectional({
            layer: tf.layers.gru({
              units: o.headUnits,
              returnSequences: true,
              kernelInitializer: glorot(),
              recurrentInitializer: tf.initializers.orthogonal({ gain: 1, seed: seed++ }),
            }) as tf.RNN,
            mergeMode: 'concat',
            name,
          })
          .apply(x) as tf.SymbolicTensor;
        break;
      case 'dense':
        x = tf.layers
          .dense({ units: o.headUnits, activation: 'relu', kernelInitializer: heNormal(), name })
          .apply(x) as tf.SymbolicTensor;
        break;
    }
  }
  if (o.dropout > 0) {
    x = new SeededDropout({ rate: o.dropout, seed: o.seed, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  }
  // 4. Per-step logits; the softmax lives in the loss and is not needed to decode (argmax).
  const logits = tf.layers
    .dense({ units: o.numClasses + 1, kernelInitializer: glorot(), name: 'logits' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: 'crnn' });
}

/**
 * Mean CTC loss of a batch, for `optimizer.minimize(() => crnnLoss(...))`.
 *
 * @param model a model from `createCrnnNet` (any model with output [B, T, classes + 1] works)
 * @param xs float32 [B, height, width, channels]
 * @param labels on the host, one array of class indices per image (`textsToCtcLabels`)
 * @param options `training` (default true: batch norm uses batch statistics and updates its
 *   moving averages, dropout is active) and any `CtcLossOptions`
 * @returns float32 scalar, the batch mean of -log p(label | image)
 */
export function crnnLoss(
  model: tf.LayersModel,
  xs: tf.Tensor4D,
  labels: CtcLabels,
  options: Partial<CtcLossOptions> & { training?: boolean } = {},
): tf.Scalar {
  const { training = true, ...ctcOptions } = options;
  return tf.tidy(() => {
    const logits = model.apply(xs, { training }) as tf.Tensor3D;
    return tf.mean(ctcLoss(labels, logits, undefined, ctcOptions)) as tf.Scalar;
  });
}

/**
 * Reads a batch of images with a CTC model: greedy decoding mapped through the alphabet.
 * @param model a model from `createCrnnNet`
 * @param xs float32 [B, height, width, channels]
 * @param alphabet characters of classes 0..numClasses-1
 * @returns one string per image, of any length
 */
export async function crnnDecode(model: tf.LayersModel, xs: tf.Tensor4D, alphabet: string): Promise<string[]> {
  const logits = model.predict(xs) as tf.Tensor3D;
  try {
    return ctcIndicesToText(await ctcGreedyDecode(logits), alphabet);
  } finally {
    logits.dispose();
  }
}
