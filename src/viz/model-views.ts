/** What a model does to one batch, as table rows: the shapes and confidence of each output. */
import * as tf from '@tensorflow/tfjs';

export interface ForwardPassRow {
  [key: string]: string | number;
  output: string;
  shape: string;
  /** Mean over the batch of the highest softmax probability: 1/classes means "no idea". */
  meanTopProbability: number;
}

/**
 * Runs `xs` through the model once and describes every output (name, shape, how confident).
 * Leaves no tensors behind. Asynchronous: the confidences are read back with `data()`, which every
 * backend supports.
 * @param xs float32 [B, H, W, C]
 */
export async function forwardPassRows(model: tf.LayersModel, xs: tf.Tensor4D): Promise<ForwardPassRow[]> {
  const expected = model.inputs[0].shape.slice(1);
  const got = xs.shape.slice(1);
  if (expected.some((d, i) => d !== null && d !== got[i])) {
    throw new Error(`the model reads images of [${expected.join(',')}] (H,W,C) but the batch is [${got.join(',')}]; generate or resize to that size`);
  }
  const shapes: number[][] = [];
  // one mean top probability per output; NaN for outputs that are not [batch, classes]
  const confidence = tf.tidy(() => {
    const out = model.predict(xs);
    const outputs = Array.isArray(out) ? out : [out];
    outputs.forEach((t) => shapes.push(t.shape));
    return tf.stack(outputs.map((t) => (t.rank === 2 ? tf.max(t, -1).mean() : tf.scalar(NaN))));
  });
  let values: Float32Array;
  try {
    values = (await confidence.data()) as Float32Array;
  } finally {
    confidence.dispose();
  }
  return shapes.map((shape, i) => ({
    output: model.outputNames[i] ?? `output ${i + 1}`,
    shape: `[${shape.join(',')}]`,
    meanTopProbability: values[i],
  }));
}
