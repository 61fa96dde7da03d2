/**
 * Starting a larger model from a trained smaller one: `crnn-wide-context` is `crnn-wide` with a
 * summary of the whole image appended to each step's features, so its first head layer has more
 * input channels and there are new layers. Copying by layer name, with the extra rows of a larger
 * kernel set to zero, makes the new model compute exactly what the trained one did until training
 * moves the new weights.
 */
import * as tf from '@tensorflow/tfjs';

/** What `embedWeights` did with each of the target's layers that hold weights. */
export interface EmbedReport {
  /** Layers whose weights were copied as they are. */
  copied: string[];
  /** Layers whose weights were copied into the first rows of larger ones, the rest zero. */
  embedded: string[];
  /** Layers the source lacks: they keep their initialisation. */
  fresh: string[];
}

/**
 * Sets `target`'s weights from `source`'s, layer by layer by name. A weight of the same shape is
 * copied; a kernel whose input axis (the second to last) is larger gets the source's values in
 * its first rows and zeros in the rest, so the new inputs start with no effect. Any other change
 * of shape (more outputs, other batch-norm sizes) would not read as before and is refused, as is
 * a source layer with weights that has no counterpart (its training would be lost); a refusal
 * changes nothing.
 */
export function embedWeights(source: tf.LayersModel, target: tf.LayersModel): EmbedReport {
  const report: EmbedReport = { copied: [], embedded: [], fresh: [] };
  const theirs = new Map(source.layers.filter((l) => l.getWeights().length > 0).map((l) => [l.name, l]));
  const plan: Array<{ layer: tf.layers.Layer; values: tf.Tensor[] }> = [];
  const made: tf.Tensor[] = [];
  try {
    for (const layer of target.layers) {
      const ours = layer.getWeights();
      if (ours.length === 0) continue;
      const from = theirs.get(layer.name);
      theirs.delete(layer.name);
      if (!from) {
        report.fresh.push(layer.name);
        continue;
      }
      const given = from.getWeights();
      if (given.length !== ours.length) throw new Error(`layer '${layer.name}' holds ${given.length} weights in the source and ${ours.length} here; the source is not a model this one extends`);
      let grown = false;
      const values = given.map((w, i) => {
        const [have, want] = [w.shape, ours[i].shape];
        const inputAxis = want.length - 2;
        if (have.join('x') === want.join('x')) return track(made, w.clone());
        const onlyInputsGrew = have.length === want.length && inputAxis >= 0 && have.every((d, k) => (k === inputAxis ? d <= want[k] : d === want[k]));
        if (!onlyInputsGrew) {
          throw new Error(`layer '${layer.name}' has a ${have.join('x')} weight in the source that does not fit in this model's ${want.join('x')} (only a kernel's inputs may grow); the source is not a model this one extends`);
        }
        grown = true;
        return track(made, tf.pad(w, have.map((d, k) => [0, want[k] - d] as [number, number])));
      });
      plan.push({ layer, values });
      (grown ? report.embedded : report.copied).push(layer.name);
    }
    if (theirs.size > 0) throw new Error(`the source's layers ${[...theirs.keys()].join(', ')} have no counterpart here, so their training would be lost; start from a model this one extends`);
    for (const { layer, values } of plan) layer.setWeights(values);
    return report;
  } finally {
    tf.dispose(made);
  }
}

function track(made: tf.Tensor[], t: tf.Tensor): tf.Tensor {
  made.push(t);
  return t;
}
