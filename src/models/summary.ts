import * as tf from '@tensorflow/tfjs';

export interface LayerSummaryRow {
  name: string;
  type: string;
  /** e.g. `[null,78,168,32]`; several outputs are joined with `; `. */
  outputShape: string;
  params: number;
}

export interface ModelSummary {
  name: string;
  layers: LayerSummaryRow[];
  totalParams: number;
  trainableParams: number;
}

function shapeText(shape: tf.Shape | tf.Shape[]): string {
  const list = Array.isArray(shape[0]) || shape.length === 0 ? (shape as tf.Shape[]) : [shape as tf.Shape];
  return list.map((s) => `[${s.map((d) => (d === null ? 'null' : d)).join(',')}]`).join('; ');
}

/** A table-friendly summary (layers, output shapes, parameter counts) of a built model. */
export function summarizeModel(model: tf.LayersModel): ModelSummary {
  const layers = model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: shapeText(layer.outputShape as tf.Shape | tf.Shape[]),
    params: layer.countParams(),
  }));
  const count = (ws: tf.LayerVariable[]) => ws.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);
  return {
    name: model.name,
    layers,
    totalParams: layers.reduce((n, l) => n + l.params, 0),
    trainableParams: count(model.trainableWeights),
  };
}

/** The summary as fixed-width text, like Keras's `model.summary()`. */
export function formatSummary(summary: ModelSummary): string {
  const rows = [['Layer (type)', 'Output shape', 'Params'], ...summary.layers.map((l) => [
    `${l.name} (${l.type})`, l.outputShape, l.params.toLocaleString('en-US'),
  ])];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `${r[0].padEnd(widths[0])}  ${r[1].padEnd(widths[1])}  ${r[2].padStart(widths[2])}`;
  const rule = '-'.repeat(widths[0] + widths[1] + widths[2] + 4);
  return [
    `Model: ${summary.name}`, rule, line(rows[0]), rule, ...rows.slice(1).map(line), rule,
    `Total params: ${summary.totalParams.toLocaleString('en-US')}`,
    `Trainable params: ${summary.trainableParams.toLocaleString('en-US')}`,
  ].join('\n');
}
