/**
 * Where does the signal die? Per-layer activation statistics of a model on a batch: the fraction
 * of exact zeros (dead ReLUs), the mean, and how much the activations vary from image to image.
 * A layer whose outputs are all zero passes no gradient back: everything below it stops learning,
 * and the heads can only learn the class frequencies (loss stuck at n x ln(classes)).
 */
import * as tf from '@tensorflow/tfjs';

export interface LayerActivationStats {
  name: string;
  type: string;
  shape: number[];
  /** Fraction of outputs that are exactly 0. 1 = the layer is dead for this batch. */
  zeroFraction: number;
  mean: number;
  /** Mean over units of the standard deviation across the batch: the input-dependent part. */
  acrossImagesStd: number;
}

/**
 * Layer kinds worth reporting (the others reshape or pool what these produce). ReLU layers count:
 * behind batch normalisation (`seed-bn`, `crnn`) they, not the convolutions, are where units die.
 */
const REPORTED = new Set(['Conv2D', 'Dense', 'Flatten', 'BatchNormalization', 'Conv1D', 'ReLU', 'Activation']);

/**
 * Runs `xs` through the layers of a sequential-shaped model one by one (inference mode) and
 * reports each conv/dense/flatten/batch-norm/ReLU layer. Multi-output heads are each reported.
 * Asynchronous: the statistics are read back with one `data()`, which every backend supports.
 * @param xs float32 [B, H, W, C], B >= 2
 */
export async function activationStats(model: tf.LayersModel, xs: tf.Tensor4D): Promise<LayerActivationStats[]> {
  if (xs.shape[0] < 2) throw new Error('activationStats needs a batch of at least 2 images to measure variation');
  const layers: { name: string; type: string; shape: number[] }[] = [];
  const values = new Map<string, tf.Tensor>();
  // [layers, 3]: zero fraction, mean, std across images of each reported layer
  const stats = tf.tidy(() => {
    const rows: tf.Tensor1D[] = [];
    values.set(model.inputs[0].name, xs);
    for (const layer of model.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      const inbound = layer.inboundNodes[0]?.inputTensors ?? [];
      const inputs = inbound.map((t) => values.get(t.name));
      if (inputs.some((t) => t === undefined)) throw new Error(`layer ${layer.name}: inputs not computed; only feed-forward models are supported`);
      const y = layer.apply(inputs.length === 1 ? (inputs[0] as tf.Tensor) : (inputs as tf.Tensor[]), { training: false }) as tf.Tensor;
      layer.inboundNodes[0].outputTensors.forEach((t) => values.set(t.name, y));
      if (!REPORTED.has(layer.getClassName())) continue;
      layers.push({ name: layer.name, type: layer.getClassName(), shape: y.shape.slice(1) });
      rows.push(tf.stack([y.equal(0).mean(), y.mean(), tf.moments(y, 0).variance.sqrt().mean()]) as tf.Tensor1D);
    }
    return rows.length > 0 ? tf.stack(rows) : tf.zeros([0, 3]);
  });
  let read: Float32Array;
  try {
    read = (await stats.data()) as Float32Array;
  } finally {
    stats.dispose();
  }
  return layers.map((l, i) => ({ ...l, zeroFraction: read[3 * i], mean: read[3 * i + 1], acrossImagesStd: read[3 * i + 2] }));
}

/** The statistics as an aligned text table. */
export function formatActivationStats(stats: readonly LayerActivationStats[]): string {
  const rows = stats.map((s) => [
    `${s.name} (${s.type})`,
    `[${s.shape.join(',')}]`,
    `${(100 * s.zeroFraction).toFixed(1)}%${s.zeroFraction === 1 ? ' DEAD' : ''}`,
    s.mean.toExponential(2),
    s.acrossImagesStd.toExponential(2),
  ]);
  const header = ['layer', 'output', 'zeros', 'mean', 'std across images'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}
