/**
 * A training-mode forward pass of a functional `tf.LayersModel` that swaps known layers for
 * fused kernels and hands the per-head logits to the loss.
 *
 * The model is walked layer by layer in tfjs's own topological order. Layers we know run fused
 * (Conv2D with ReLU or linear activation, BatchNormalization over the channels of a 4D input),
 * every other layer runs its own `apply(x, { training: true })`, so the result is the model's
 * maths whatever it contains. A Dense softmax layer that is a model output yields its logits
 * instead, so the loss can use softmax cross-entropy from logits (same maths, one op with its
 * gradient). Models with several inputs or shared layers are not walked (`planFusedForward`
 * returns undefined and the caller uses `model.apply`).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedKernelActive, type FusedKernelName } from './kernels';
import { batchNormTraining, conv2dBiasAct } from './ops';

/** The part of tfjs-layers' LayerVariable that we use. */
interface LayerVariableLike {
  read(): tf.Variable;
  write(value: tf.Tensor): unknown;
}

/** tfjs-layers keeps these fields protected; we read them, checking they are what we expect. */
interface ConvFields {
  rank: number;
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate: number[] | number;
  useBias: boolean;
  activation?: { getClassName(): string };
  kernel?: LayerVariableLike;
  bias?: LayerVariableLike | null;
}

interface BatchNormFields {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma?: LayerVariableLike | null;
  beta?: LayerVariableLike | null;
  movingMean?: LayerVariableLike;
  movingVariance?: LayerVariableLike;
}

interface DenseFields {
  useBias: boolean;
  activation?: { getClassName(): string };
  kernel?: LayerVariableLike;
  bias?: LayerVariableLike | null;
}

/** How one layer is run. */
export type FusedLayerKind = 'convBiasRelu' | 'batchNorm' | 'logits' | 'apply';

interface PlanStep {
  layer: tf.layers.Layer;
  kind: FusedLayerKind;
  inputIds: number[];
  outputId: number;
}

/** A model prepared for `runFusedForward`. */
export interface FusedForwardPlan {
  model: tf.LayersModel;
  inputId: number;
  steps: PlanStep[];
  /** One entry per model output: the symbolic id and whether it is produced as logits. */
  heads: Array<{ id: number; logits: boolean }>;
}

function activationName(fields: { activation?: { getClassName(): string } }): string | undefined {
  return fields.activation?.getClassName?.();
}

function allOnes(v: number[] | number): boolean {
  return (Array.isArray(v) ? v : [v]).every((d) => d === 1);
}

function convFusable(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'Conv2D') return false;
  const f = layer as unknown as ConvFields;
  const act = activationName(f);
  return (
    f.rank === 2 &&
    f.dataFormat === 'channelsLast' &&
    (f.padding === 'same' || f.padding === 'valid') &&
    allOnes(f.dilationRate) &&
    f.useBias &&
    f.kernel != null &&
    f.bias != null &&
    (act === 'relu' || act === 'linear')
  );
}

function batchNormFusable(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'BatchNormalization') return false;
  const f = layer as unknown as BatchNormFields;
  const shape = layer.inputSpec?.[0]?.ndim ?? (layer.getInputAt(0) as tf.SymbolicTensor).shape.length;
  return (
    shape === 4 &&
    (f.axis === -1 || f.axis === 3) &&
    f.center &&
    f.scale &&
    f.gamma != null &&
    f.beta != null &&
    f.movingMean != null &&
    f.movingVariance != null
  );
}

function softmaxDense(layer: tf.layers.Layer): boolean {
  if (layer.getClassName() !== 'Dense') return false;
  const f = layer as unknown as DenseFields;
  const inputRank = (layer.getInputAt(0) as tf.SymbolicTensor).shape.length;
  return activationName(f) === 'softmax' && f.kernel != null && inputRank === 2;
}

/**
 * Decides how each layer of `model` runs, given the replacements that will be active
 * (`convBiasRelu`, `batchNorm`, `softmaxCrossEntropy` matter here). Undefined when the model
 * cannot be walked (several inputs, a layer used more than once, a nested model).
 */
export function planFusedForward(
  model: tf.LayersModel,
  kernels: Iterable<FusedKernelName>,
): FusedForwardPlan | undefined {
  const on = new Set(kernels);
  if (model.inputs.length !== 1) return undefined;
  const outputIds = new Set(model.outputs.map((o) => o.id));
  const steps: PlanStep[] = [];
  const logitHeads = new Set<number>();
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1) return undefined;
    const node = layer.inboundNodes[0];
    if (node.outputTensors.length !== 1) return undefined;
    const outputId = node.outputTensors[0].id;
    let kind: FusedLayerKind = 'apply';
    if (on.has('convBiasRelu') && convFusable(layer)) kind = 'convBiasRelu';
    else if (on.has('batchNorm') && batchNormFusable(layer)) kind = 'batchNorm';
    else if (on.has('softmaxCrossEntropy') && outputIds.has(outputId) && softmaxDense(layer)) {
      kind = 'logits';
      logitHeads.add(outputId);
    }
    steps.push({ layer, kind, inputIds: node.inputTensors.map((t) => t.id), outputId });
  }
  return {
    model,
    inputId: model.inputs[0].id,
    steps,
    heads: model.outputs.map((o) => ({ id: o.id, logits: logitHeads.has(o.id) })),
  };
}

/** Counts of layers per kind, for logs: e.g. `{ convBiasRelu: 8, apply: 2, logits: 4 }`. */
export function describePlan(plan: FusedForwardPlan): Partial<Record<FusedLayerKind, number>> {
  const counts: Partial<Record<FusedLayerKind, number>> = {};
  for (const s of plan.steps) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
  return counts;
}

function runConv(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const f = layer as unknown as Required<ConvFields>;
  if (x.rank !== 4 || !fusedKernelActive('convBiasRelu')) return layer.apply(x, { training: true }) as tf.Tensor;
  const kernel = (f.kernel as LayerVariableLike).read() as tf.Tensor4D;
  const bias = (f.bias as LayerVariableLike).read() as tf.Tensor1D;
  return conv2dBiasAct(x as tf.Tensor4D, kernel, bias, {
    strides: [f.strides[0], f.strides[1] ?? f.strides[0]],
    padding: f.padding as 'same' | 'valid',
    activation: activationName(f) === 'relu' ? 'relu' : 'linear',
  });
}

function runBatchNorm(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const f = layer as unknown as Required<BatchNormFields>;
  if (x.rank !== 4 || !fusedKernelActive('batchNorm')) return layer.apply(x, { training: true }) as tf.Tensor;
  const gamma = (f.gamma as LayerVariableLike).read() as tf.Tensor1D;
  const beta = (f.beta as LayerVariableLike).read() as tf.Tensor1D;
  const { y, mean, variance } = batchNormTraining(x as tf.Tensor4D, gamma, beta, f.epsilon);
  // Moving statistics exactly as tfjs's BatchNormalization layer updates them.
  tf.tidy(() => {
    for (const [variable, value] of [
      [f.movingMean, mean],
      [f.movingVariance, variance],
    ] as const) {
      const orig = variable.read();
      variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), 1 - f.momentum)));
    }
  });
  tf.dispose([mean, variance]);
  return y;
}

function runLogits(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const f = layer as unknown as Required<DenseFields>;
  return tf.fused.matMul({
    a: x as tf.Tensor2D,
    b: f.kernel.read() as tf.Tensor2D,
    bias: f.useBias && f.bias ? f.bias.read() : undefined,
  });
}

/** What `runFusedForward` returns per model output. */
export interface HeadOutput {
  /** The output tensor: logits [B, C] when `logits`, else the layer's own output (e.g. probabilities). */
  tensor: tf.Tensor;
  logits: boolean;
}

/**
 * Training-mode forward pass of a planned model. Call inside a gradient scope; side effects
 * (moving statistics of batch normalisation) happen as in `model.apply(xs, { training: true })`.
 */
export function runFusedForward(plan: FusedForwardPlan, xs: tf.Tensor): HeadOutput[] {
  const values = new Map<number, tf.Tensor>([[plan.inputId, xs]]);
  for (const step of plan.steps) {
    const inputs = step.inputIds.map((id) => {
      const v = values.get(id);
      if (!v) throw new Error(`fused forward: layer ${step.layer.name} needs a tensor that was not computed`);
      return v;
    });
    const x = inputs.length === 1 ? inputs[0] : inputs;
    let out: tf.Tensor;
    switch (step.kind) {
      case 'convBiasRelu':
        out = runConv(step.layer, x as tf.Tensor);
        break;
      case 'batchNorm':
        out = runBatchNorm(step.layer, x as tf.Tensor);
        break;
      case 'logits':
        out = runLogits(step.layer, x as tf.Tensor);
        break;
      case 'apply':
        out = step.layer.apply(x, { training: true }) as tf.Tensor;
        break;
      default: {
        const never: never = step.kind;
        throw new Error(`unknown layer kind ${String(never)}`);
      }
    }
    values.set(step.outputId, out);
  }
  return plan.heads.map((h) => {
    const tensor = values.get(h.id);
    if (!tensor) throw new Error('fused forward: a model output was not computed');
    return { tensor, logits: h.logits };
  });
}
