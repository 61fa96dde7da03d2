/**
 * Reading CTC outputs of several models, or of one model on several views of each image
 * (test-time augmentation): the per-frame class probabilities are averaged, then decoded like one
 * model's. Used to measure what ensembling buys against the 0/O confusion (docs/pretrained.md).
 */
import * as tf from '@tensorflow/tfjs';
import { ctcConstrainedDecode, ctcGreedyDecode, type TextRules } from '../models';

/** Shifts a [B, H, W, C] batch along its width, repeating the edge columns into the gap. */
export function shiftImages(xs: tf.Tensor4D, shift: number): tf.Tensor4D {
  const width = xs.shape[2];
  if (!Number.isInteger(shift) || Math.abs(shift) >= width) throw new Error(`shift must be a whole number of pixels below the width ${width}, got ${shift}`);
  if (shift === 0) return xs.clone();
  return tf.tidy(() => {
    const [b, h, , c] = xs.shape;
    if (shift > 0) {
      const edge = tf.tile(tf.slice(xs, [0, 0, 0, 0], [b, h, 1, c]), [1, 1, shift, 1]);
      return tf.concat([edge, tf.slice(xs, [0, 0, 0, 0], [b, h, width - shift, c])], 2) as tf.Tensor4D;
    }
    const s = -shift;
    const edge = tf.tile(tf.slice(xs, [0, 0, width - 1, 0], [b, h, 1, c]), [1, 1, s, 1]);
    return tf.concat([tf.slice(xs, [0, 0, s, 0], [b, h, width - s, c]), edge], 2) as tf.Tensor4D;
  });
}

/** One reader of the ensemble: a CTC model and the shift of the images it reads. */
export interface EnsembleMember {
  model: tf.LayersModel;
  /** @default 0 */
  shift?: number;
}

/** A member's per-frame class probabilities for a batch, [B, T, C]. */
export function memberProbabilities({ model, shift = 0 }: EnsembleMember, xs: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => tf.softmax(model.predict(shiftImages(xs, shift)) as tf.Tensor3D));
}

/**
 * Texts from the mean of several [B, T, C] probability tensors (not disposed), decoded with
 * `textRules` (the best path of texts like the training texts) or greedily.
 */
export async function decodeMeanProbabilities(probs: readonly tf.Tensor3D[], alphabet: string, textRules?: TextRules): Promise<string[]> {
  if (probs.length === 0) throw new Error('an ensemble needs at least one member');
  const shapes = new Set(probs.map((p) => p.shape.join('x')));
  if (shapes.size > 1) throw new Error(`ensemble members emit different shapes (${[...shapes].join(', ')}); use models of one architecture and input`);
  const logProbs = tf.tidy(() => tf.log(tf.addN([...probs]).div(probs.length).add(1e-12)) as tf.Tensor3D);
  try {
    const sequences = await (textRules ? ctcConstrainedDecode(logProbs, textRules) : ctcGreedyDecode(logProbs));
    return sequences.map((seq) => seq.map((k) => alphabet[k]).join(''));
  } finally {
    logProbs.dispose();
  }
}

/**
 * The texts an ensemble reads from a batch: the mean of the members' per-frame softmax
 * probabilities, decoded with `textRules` (or greedily). All members must emit the same number
 * of frames and classes.
 */
export async function predictTextsEnsemble(members: readonly EnsembleMember[], xs: tf.Tensor4D, alphabet: string, textRules?: TextRules): Promise<string[]> {
  const probs: tf.Tensor3D[] = [];
  try {
    for (const m of members) probs.push(memberProbabilities(m, xs));
    return await decodeMeanProbabilities(probs, alphabet, textRules);
  } finally {
    probs.forEach((p) => p.dispose());
  }
}
