/**
 * Has a run left the chance plateau, or will it never? The 2017 seed network either leaves the
 * plateau (loss 4 ln 36 = 14.33) within a few hundred steps or its last convolution dies: every
 * ReLU unit outputs 0 for every image, no gradient reaches any convolution again, and the heads can
 * only learn the label frequencies. In the PyTorch grid (docs/replication.md) no
 * run whose last convolution was 100% dead at the end of an epoch ever recovered.
 *
 * The monitor watches both signs during training:
 * - **dead units**: every `plateauProbeEvery` steps (and at step 0) it runs a few fixed training
 *   images (`plateauProbeImages`, the first images of epoch 1) through the model in inference mode
 *   and counts the units (position x channel) of the last convolution's ReLU that fire (> 0) on
 *   none of them. When no unit has fired on any probe for `stuckAfterSteps` steps, the run is
 *   **stuck**: `stuck.step` is the first probe of that dead stretch, `stuck.declaredAt` the probe
 *   at which the stretch reached `stuckAfterSteps`.
 * - **loss**: the run has **escaped** when the mean training loss of the last ESCAPE_LOSS_WINDOW
 *   steps is below ESCAPE_LOSS_FRACTION of the chance loss (length x ln(classes), what a model that
 *   ignores the image pays when the characters are uniform) and the latest probe found live
 *   units. A dead network can still push the loss a little below chance by learning the label
 *   frequencies of a small or skewed dataset; it cannot read, so it never counts as escaped.
 *   Per-position models only (a CTC model's chance loss is not a fixed number).
 *
 * Everything lives in `run.json`'s `plateau` (saved with the checkpoint), so a resumed run decides
 * exactly as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs';
import type { LabeledBatch } from '../data/loader';
import type { HeadKind } from '../models/types';
import type { TrainConfig } from './config';
import type { TrainingData } from './data-source';

/** Escaped: running loss below this fraction of the chance loss (0.9 x 14.33 = 12.90 for 4 x 36). */
export const ESCAPE_LOSS_FRACTION = 0.9;
/** Steps in the running loss of the escape rule. */
export const ESCAPE_LOSS_WINDOW = 50;

export type PlateauOutcome = 'escaped' | 'stuck' | 'undecided';

/** Fraction of the probed layer's units that fired on none of the probe images, at a step. */
export interface PlateauProbe {
  step: number;
  deadFraction: number;
}

/** `run.json`'s `plateau`: the probe's settings, the dead fraction over steps, and the verdicts. */
export interface PlateauRecord {
  /** The layer whose ReLU outputs are probed, and how many units it has (H x W x C). */
  layer: string;
  units: number;
  probeImages: number;
  probeEvery: number;
  stuckAfterSteps: number;
  /** length x ln(classes); null for CTC models (no escape verdict). */
  chanceLoss: number | null;
  /** The running loss below which the run has escaped (ESCAPE_LOSS_FRACTION x chanceLoss). */
  escapeBelow: number | null;
  probes: PlateauProbe[];
  /** First step of the current stretch of probes on which no unit fired; null while some fire. */
  deadSince: number | null;
  /**
   * Declared stuck: `step` = first step of the dead stretch, `declaredAt` = the step it was
   * declared. `revivedAt`: a later probe on which units fired again (the rule was premature).
   */
  stuck: { step: number; declaredAt: number; revivedAt?: number } | null;
  /** Declared escaped at `step`, with the running loss then. */
  escaped: { step: number; loss: number } | null;
  /** `escaped` once escaped (even after a stuck verdict), else `stuck` once stuck. */
  outcome: PlateauOutcome;
  /** Set when training stopped on the verdict (stopWhenStuck / stopWhenEscaped); cleared on resume. */
  stopped: { step: number; because: 'stuck' | 'escaped' } | null;
  /** The last ESCAPE_LOSS_WINDOW training losses (the running loss's window, kept for a resume). */
  recentLosses: number[];
}

export interface PlateauStopRules {
  /** Stop training once the run is stuck. */
  stopWhenStuck?: boolean;
  /** Stop training once the run has escaped (e.g. to screen seeds). */
  stopWhenEscaped?: boolean;
}

type Layer = tf.LayersModel['layers'][number];

const CONVOLUTIONS = new Set(['Conv2D', 'Conv1D']);

function activationOf(layer: Layer): string | undefined {
  return (layer.getConfig() as { activation?: string }).activation;
}

/**
 * The layer whose output is the last convolution's ReLU: the convolution itself when it has a ReLU
 * activation (`seed`), else the first ReLU layer after it (`seed-bn`, `crnn`: conv, batch norm,
 * ReLU). Null when the last convolution feeds no ReLU.
 */
export function lastConvReluLayer(model: tf.LayersModel): Layer | null {
  const layers = model.layers;
  let last = -1;
  layers.forEach((layer, i) => {
    if (CONVOLUTIONS.has(layer.getClassName())) last = i;
  });
  if (last < 0) return null;
  if (activationOf(layers[last]) === 'relu') return layers[last];
  for (const layer of layers.slice(last + 1)) {
    const kind = layer.getClassName();
    if (kind === 'ReLU' || (kind === 'Activation' && activationOf(layer) === 'relu')) return layer;
    if (kind === 'Dense') break;
  }
  return null;
}

/** A model that outputs `layer`'s activations; it shares the layers (and weights) of `model`. */
function layerOutputModel(model: tf.LayersModel, layer: Layer): tf.LayersModel {
  return tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor });
}

/** Fraction of the units of `probe`'s output that are <= 0 for every image of `images`. */
async function fractionDead(probe: tf.LayersModel, images: readonly tf.Tensor4D[]): Promise<number> {
  let alive: tf.Tensor | undefined;
  for (const xs of images) {
    const next = tf.tidy(() => {
      const out = probe.apply(xs, { training: false }) as tf.Tensor;
      // One entry per unit (position x channel). Flattened first: on tfjs-backend-webgpu 4.22
      // any(0) of a 3-D/4-D bool tensor fails to compile its transpose shader and comes back all
      // false (every unit dead); the 2-D reduction is right on every backend.
      const fired = out.reshape([out.shape[0], -1]).greater(0).any(0);
      return alive ? tf.logicalOr(alive, fired) : fired;
    });
    alive?.dispose();
    alive = next;
  }
  if (!alive) throw new Error('deadUnitFraction needs at least one batch of images');
  const fraction = tf.tidy(() => tf.sub(1, (alive as tf.Tensor).cast('float32').mean()));
  alive.dispose();
  const [value] = await fraction.data();
  fraction.dispose();
  return value;
}

/**
 * Fraction of the units of `layer` (every position and channel) that output 0 or less for every
 * image of `images`, in inference mode. 1 = the layer is dead on these images.
 */
export async function deadUnitFraction(model: tf.LayersModel, layer: Layer, images: readonly tf.Tensor4D[]): Promise<number> {
  return fractionDead(layerOutputModel(model, layer), images);
}

/** The first `count` training images of epoch 1, in batches of the run's batch size. */
async function probeImages(data: TrainingData, count: number): Promise<tf.Tensor4D[]> {
  const images: tf.Tensor4D[] = [];
  const batches = data.epochBatches(0, 0);
  let taken = 0;
  try {
    while (taken < count) {
      const next = await batches.next();
      if (next.done) break;
      const batch: LabeledBatch = next.value;
      const keep = Math.min(count - taken, batch.texts.length);
      images.push(keep === batch.texts.length ? (batch.xs as tf.Tensor4D) : (batch.xs.slice(0, keep) as tf.Tensor4D));
      if (keep !== batch.texts.length) batch.xs.dispose();
      batch.ys.dispose();
      taken += keep;
    }
  } finally {
    await batches.return(undefined);
  }
  return images;
}

/** The outcome the verdicts add up to. */
function outcomeOf(record: PlateauRecord): PlateauOutcome {
  if (record.escaped) return 'escaped';
  return record.stuck ? 'stuck' : 'undecided';
}

/** One line for logs: `stuck at step 340 (dead since 340, declared at 440)`, `escaped at step 410 (loss 12.71)`. */
export function describePlateau(record: PlateauRecord): string {
  const dead = record.probes.length ? `${(100 * record.probes[record.probes.length - 1].deadFraction).toFixed(1)}% of ${record.layer}'s units dead` : 'not probed yet';
  if (record.escaped) return `escaped at step ${record.escaped.step} (running loss ${record.escaped.loss.toFixed(3)}); ${dead}`;
  if (record.stuck) return `stuck at step ${record.stuck.step} (no unit of ${record.layer} fired since; declared at step ${record.stuck.declaredAt})`;
  return `undecided; ${dead}`;
}

export interface PlateauMonitor {
  readonly record: PlateauRecord;
  /** After the optimizer step that made `step` steps in all, with that step's training loss. */
  afterStep(step: number, loss: number): Promise<void>;
  /** The verdict training should stop on now, under the stop rules; null to go on. */
  stopReason(): 'stuck' | 'escaped' | null;
  /** Marks the run as stopped on `because` at `step` (for run.json). */
  markStopped(step: number, because: 'stuck' | 'escaped'): void;
  dispose(): void;
}

export interface PlateauMonitorOptions extends PlateauStopRules {
  model: tf.LayersModel;
  config: TrainConfig;
  head: HeadKind;
  data: TrainingData;
  /** Optimizer steps made so far (0 for a new run). */
  step: number;
  /** The record of an earlier part of this run (from its checkpoint). */
  previous?: PlateauRecord;
  /** Called after every probe and verdict. */
  onUpdate?(record: PlateauRecord): void;
  log?(line: string): void;
}

/**
 * A monitor for this run, or null when the config turns the probe off (`plateauProbeEvery` 0) or
 * the model has no ReLU after its last convolution (stop rules are then refused, with the reason).
 */
export async function createPlateauMonitor(options: PlateauMonitorOptions): Promise<PlateauMonitor | null> {
  const { model, config, head, data, log = () => undefined } = options;
  const wantsStop = Boolean(options.stopWhenStuck || options.stopWhenEscaped);
  const layer = config.plateauProbeEvery > 0 ? lastConvReluLayer(model) : null;
  if (!layer) {
    if (wantsStop) {
      throw new Error(
        config.plateauProbeEvery > 0
          ? `stop-when-stuck/escaped needs the plateau probe, but model '${config.model}' has no ReLU after its last convolution to probe; train without them`
          : 'stop-when-stuck/escaped needs the plateau probe, which plateauProbeEvery 0 turns off; set --plateau-probe-every > 0',
      );
    }
    if (config.plateauProbeEvery > 0) log(`plateau probe off: model '${config.model}' has no ReLU after its last convolution`);
    return null;
  }
  const chanceLoss = head === 'per-position' ? config.length * Math.log(config.alphabet.length) : null;
  const units = (layer.outputShape as number[]).slice(1).reduce((a, b) => a * b, 1);
  const record: PlateauRecord = options.previous
    ? { ...options.previous, stopped: null }
    : {
        layer: layer.name, units, probeImages: config.plateauProbeImages, probeEvery: config.plateauProbeEvery,
        stuckAfterSteps: config.stuckAfterSteps, chanceLoss, escapeBelow: chanceLoss === null ? null : ESCAPE_LOSS_FRACTION * chanceLoss,
        probes: [], deadSince: null, stuck: null, escaped: null, outcome: 'undecided', stopped: null, recentLosses: [],
      };
  if (record.layer !== layer.name) {
    throw new Error(`the checkpoint probed layer '${record.layer}' but the model's last convolution ReLU is '${layer.name}'; the run's model changed`);
  }
  const images = await probeImages(data, config.plateauProbeImages);
  const probeModel = layerOutputModel(model, layer);
  const update = () => {
    record.outcome = outcomeOf(record);
    options.onUpdate?.(record);
  };

  const probe = async (step: number) => {
    const deadFraction = await fractionDead(probeModel, images);
    record.probes.push({ step, deadFraction });
    if (deadFraction === 1) {
      record.deadSince ??= step;
      if (!record.stuck && step - record.deadSince >= record.stuckAfterSteps) {
        record.stuck = { step: record.deadSince, declaredAt: step };
        log(`plateau: ${describePlateau(record)}`);
      }
    } else {
      record.deadSince = null;
      if (record.stuck && record.stuck.revivedAt === undefined) record.stuck.revivedAt = step;
    }
  };

  if (record.probes.length === 0) {
    // where the run starts: step 0 for a new run (a run from before the probe: where it resumes)
    await probe(options.step);
    update();
  }
  return {
    record,
    async afterStep(step, loss) {
      const window = record.recentLosses;
      window.push(loss);
      if (window.length > ESCAPE_LOSS_WINDOW) window.shift();
      const probed = step % record.probeEvery === 0;
      if (probed) await probe(step);
      const lastDead = record.probes[record.probes.length - 1]?.deadFraction ?? 1;
      let escapedNow = false;
      if (!record.escaped && record.escapeBelow !== null && window.length === ESCAPE_LOSS_WINDOW && lastDead < 1) {
        const mean = window.reduce((a, b) => a + b, 0) / window.length;
        if (mean < record.escapeBelow) {
          record.escaped = { step, loss: mean };
          escapedNow = true;
          log(`plateau: ${describePlateau(record)}`);
        }
      }
      if (probed || escapedNow) update();
    },
    stopReason() {
      if (options.stopWhenEscaped && record.outcome === 'escaped') return 'escaped';
      if (options.stopWhenStuck && record.outcome === 'stuck') return 'stuck';
      return null;
    },
    markStopped(step, because) {
      record.stopped = { step, because };
      options.onUpdate?.(record);
    },
    dispose() {
      tf.dispose(images);
    },
  };
}
