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
 * Leaves no tensors behind.
 * @param xs float32 [B, H, W, C]
 */
export function forwardPassRows(model: tf.LayersModel, xs: tf.Tensor4D): ForwardPassRow[] {
  const expected = model.inputs[0].shape.slice(1);
  const got = xs.shape.slice(1);
  if (expected.some((d, i) => d !== null && d !== got[i])) {
    throw new Error(`the model reads images of [${expected.join(',')}] (H,W,C) but the batch is [${got.join(',')}]; generate or resize to that size`);
  }
  return tf.tidy(() => {
    const out = model.predict(xs);
    const outputs = Array.isArray(out) ? out : [out];
    return outputs.map((t, i) => ({
      output: model.outputNames[i] ?? `output ${i + 1}`,
      shape: `[${t.shape.join(',')}]`,
      meanTopProbability: t.rank === 2 ? (tf.max(t, -1).mean().dataSync()[0] as number) : NaN,
    }));
  });
}
