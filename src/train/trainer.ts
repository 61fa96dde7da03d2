/**
 * The training loop: epochs of batches through `createTrainStep`, validation after every epoch,
 * the best model and a run record saved to `<modelsDir>/<run>/`, and a resumable checkpoint in
 * `<modelsDir>/<run>/checkpoint/` after every epoch and on interruption.
 *
 * Progress is reported only through callbacks: the CLI attaches a progress bar, a notebook a chart.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { activeBackend } from '../backend';
import { writeFileAtomic } from '../files';
import type { LabeledBatch } from '../data/loader';
import type { InputShape } from '../data/tensors';
import { predictTexts } from '../eval/predict';
import { scorePredictions } from '../eval/metrics';
import { createModel, getModelSpec } from '../models/registry';
import { embedWeights } from '../models/embed-weights';
import { loadModel, readModelMetadata, writeFolderAtomically, modelToFiles, textRulesOf, type ModelMetadata } from '../models/io';
import type { TextRules } from '../models/ctc';
import { setDropoutStep } from '../models/seeded-dropout';
import type { HeadKind } from '../models/types';
import { learningRateAt, resolveTrainConfig, type TrainConfig } from './config';
import { RUN_JSON, effectiveConfig } from './run-record';
import { CHECKPOINT, REPLACED_RUN, dropReplacedRun, keepsReplacedRun, openRunFolder, readCheckpointState, restoreHint, resumedConfig, setAsidePreviousRun } from './run-folder';
import { createTrainingData, type TrainingData } from './data-source';
import { createHeadTraining, type HeadTraining } from './heads';
import { createOptimizer, decodeOptimizerState, encodeOptimizerState } from './optimizer';
import { createPlateauMonitor, describePlateau, type PlateauRecord, type PlateauStopRules } from './plateau';

/** Metrics of one epoch; accuracies are fractions. */
export interface EpochMetrics {
  epoch: number;
  loss: number;
  /** Training accuracy of each head (per-position models). */
  headAccuracy: number[];
  valLoss: number;
  valCharacterAccuracy: number;
  valWholeAccuracy: number;
  valHeadAccuracy: number[];
  learningRate: number;
  /** Training images of this epoch (fewer than a full epoch after a resume mid-epoch). */
  images: number;
  /** Training throughput: images / trainSeconds. */
  imagesPerSecond: number;
  /** Seconds of the training part of the epoch, validation excluded. */
  trainSeconds: number;
  /** Seconds of this epoch spent waiting for the next batch of data. */
  dataWaitSeconds: number;
  /** Seconds of the whole epoch, validation included. */
  seconds: number;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  headAccuracy: number[];
  imagesPerSecond: number;
}

/** One point of the accuracy-versus-training-time curve. */
export interface CurvePoint {
  /** Minutes of training so far (validation and curve scoring excluded). */
  minutes: number;
  /** Training images seen so far. */
  images: number;
  wholeAccuracy: number;
  characterAccuracy: number;
  /** How many validation images were scored. */
  count: number;
}

/** `run.json`: everything needed to know what a run did and how fast. */
export interface RunRecord {
  config: TrainConfig;
  architecture: string;
  input: InputShape;
  backend: { name: string; package: string } | null;
  data: string;
  history: EpochMetrics[];
  /** Accuracy versus training time (config.curveEveryMinutes). */
  curve: CurvePoint[];
  /** Training wall time so far, validation excluded, across resumed parts. */
  trainedSeconds: number;
  /** Training images seen so far, across resumed parts. */
  trainedImages: number;
  bestEpoch: number | null;
  best: { valCharacterAccuracy: number; valWholeAccuracy: number } | null;
  imagesPerSecond: number;
  /** Fraction of training wall time spent waiting for data. */
  dataWaitFraction: number;
  /** Wall time of all parts so far: training, validation, curve points, epochs cut short by an interrupt. */
  wallSeconds: number;
  completed: boolean;
  versions: Record<string, string>;
  host: { cpus: number; platform: string };
  startedAt: string;
  updatedAt: string;
  /**
   * Each `--resume` that changed the configuration: when, where, and which settings, so that a
   * run trained in parts says how it was trained. `config` stays the first part's.
   */
  resumes?: ConfigChange[];
  /** The last convolution's dead units over steps, and whether the run escaped the chance plateau or is stuck on it (src/train/plateau.ts). */
  plateau?: PlateauRecord;
}

/** Settings changed at a resume, e.g. `{ epochs: { from: 9, to: 5 } }`. */
export interface ConfigChange {
  at: string;
  /** Epoch and batch the resumed part started at (1-based epoch). */
  epoch: number;
  batch: number;
  changed: Record<string, { from: unknown; to: unknown }>;
}

/** Settings whose values differ between two configurations (JSON equality). */
export function configDifferences(before: TrainConfig, after: TrainConfig): ConfigChange['changed'] {
  const changed: ConfigChange['changed'] = {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    const from = (before as unknown as Record<string, unknown>)[key];
    const to = (after as unknown as Record<string, unknown>)[key];
    if (JSON.stringify(from) !== JSON.stringify(to)) changed[key] = { from: from ?? null, to: to ?? null };
  }
  return changed;
}

export interface TrainCallbacks {
  onStart?(info: { config: TrainConfig; data: string; batchesPerEpoch: number; resumedFrom: string | null }): void;
  onBatch?(progress: BatchProgress): void;
  onEpochEnd?(metrics: EpochMetrics): void;
  onLog?(line: string): void;
  /** After every plateau probe and verdict. */
  onPlateau?(record: PlateauRecord): void;
}

export interface TrainOptions extends PlateauStopRules {
  callbacks?: TrainCallbacks;
  /** Abort to stop after the current batch; a checkpoint is saved first. */
  signal?: AbortSignal;
  /**
   * Continue from `<run>/checkpoint`, with the run's own settings as defaults (a run without a
   * checkpoint is refused). @default false
   */
  resume?: boolean;
  /** Replace a run folder that already holds a model (its old files are removed). @default false */
  overwrite?: boolean;
}

export interface TrainResult {
  record: RunRecord;
  runDir: string;
  interrupted: boolean;
  /** Stopped on a plateau verdict (TrainOptions.stopWhenStuck / stopWhenEscaped); resumable. */
  stopped: 'stuck' | 'escaped' | null;
}

/** What the checkpoint remembers beyond the weights. */
interface CheckpointState {
  epoch: number;
  batch: number;
  globalStep: number;
  record: RunRecord;
  bestScore: number;
  optimizerSpecs: tf.io.WeightsManifestEntry[];
  /** What an interrupted epoch had counted so far, so that its metrics cover the whole epoch. */
  partialEpoch?: EpochTally;
}

/** Running sums of one epoch's training, carried in the checkpoint when the epoch is interrupted. */
interface EpochTally {
  lossSum: number;
  seen: number;
  /** Correct predictions per head (per-position models; empty for CTC). */
  correct: number[];
  waitMs: number;
  /** Time spent on curve points and plateau probes, which is not training time. */
  curveMs: number;
  /** Wall time of the epoch in earlier parts (set when it is interrupted). */
  wallMs: number;
}

/** tfjs optimizers read `learningRate` on every update, so a schedule can just set it. */
function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

export function versions(): Record<string, string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../../package.json') as { version: string };
  return { 'captcha-lab': pkg.version, tfjs: tf.version.tfjs, node: process.version };
}

/** Model, optimizer state and loop position, written as one folder in one atomic step. */
async function saveCheckpoint(
  runDir: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  metadata: ModelMetadata,
  state: Omit<CheckpointState, 'optimizerSpecs'>,
): Promise<void> {
  const { data, specs } = await encodeOptimizerState(optimizer);
  const files = await modelToFiles(model);
  const full: CheckpointState = { ...state, optimizerSpecs: specs };
  writeFolderAtomically(path.join(runDir, CHECKPOINT), {
    ...files,
    // the same metadata as a saved model, so loadModel can check the architecture on resume
    'metadata.json': JSON.stringify(metadata, null, 2),
    'optimizer.bin': data,
    'state.json': JSON.stringify(full, null, 1),
  });
}

async function loadCheckpoint(runDir: string, architecture: string): Promise<{ model: tf.LayersModel; optimizerWeights: Array<{ name: string; tensor: tf.Tensor }>; state: CheckpointState } | null> {
  const state = readCheckpointState<CheckpointState>(runDir, (file, why) => `the checkpoint '${file}' is unreadable (${why}); start a new run with another --run`);
  if (!state) return null;
  const dir = path.join(runDir, CHECKPOINT);
  const { model } = await loadModel(dir, architecture);
  const optimizerWeights = decodeOptimizerState(fs.readFileSync(path.join(dir, 'optimizer.bin')), state.optimizerSpecs);
  return { model, optimizerWeights, state };
}

async function validate(
  model: tf.LayersModel,
  heads: HeadTraining,
  head: HeadKind,
  data: TrainingData,
  config: TrainConfig,
  textRules: TextRules | undefined,
  maxImages = Infinity,
): Promise<{ loss: number; report: ReturnType<typeof scorePredictions> }> {
  const actual: string[] = [];
  const predicted: string[] = [];
  let lossSum = 0;
  const batches = data.validationBatches(Math.max(config.batchSize, 64));
  for await (const batch of batches) {
    if (actual.length >= maxImages) {
      disposeBatch(batch);
      break;
    }
    const loss = heads.evalLoss(batch);
    lossSum += (await loss.data())[0] * batch.texts.length;
    loss.dispose();
    predicted.push(...(await predictTexts(model, batch.xs, config.alphabet, head, textRules)));
    actual.push(...batch.texts);
    disposeBatch(batch);
  }
  const n = Math.min(actual.length, maxImages);
  return { loss: lossSum / actual.length, report: scorePredictions(actual.slice(0, n), predicted.slice(0, n), config.alphabet) };
}

/**
 * Starts `model` from the weights of the saved model in `dir` (fine-tuning). Refused, before
 * anything is trained, unless the saved model has the same input and alphabet and the same
 * architecture or one this one extends. Returns the layers that did not come from it as they
 * were (an extended architecture's new layers and grown kernels), which must train: `freeze`
 * refuses them.
 */
async function copyWeightsFrom(dir: string, model: tf.LayersModel, config: TrainConfig, input: InputShape): Promise<string[]> {
  // the architecture is checked from the metadata, before any weight is read
  const extended = getModelSpec(config.model).extends ?? [];
  const architecture = readModelMetadata(dir).architecture;
  if (architecture !== config.model && !extended.includes(architecture)) {
    const alternatives = extended.length > 0 ? ` or one it extends (${extended.join(', ')})` : '';
    throw new Error(`'${dir}' holds a '${architecture}' model, not '${config.model}'${alternatives}; pick the matching --model or another folder`);
  }
  const { model: source, metadata } = await loadModel(dir);
  try {
    const theirs = metadata.input;
    if (theirs.height !== input.height || theirs.width !== input.width || theirs.channels !== input.channels) {
      throw new Error(
        `--init-from '${dir}' was trained on ${theirs.width}x${theirs.height}x${theirs.channels} input, this run has ${input.width}x${input.height}x${input.channels}; ` +
          `pass --width ${theirs.width} --height ${theirs.height} --channels ${theirs.channels}, or start from another model`,
      );
    }
    if (metadata.alphabet !== config.alphabet) {
      throw new Error(`--init-from '${dir}' reads the alphabet '${metadata.alphabet}', this run '${config.alphabet}'; pass --alphabet '${metadata.alphabet}'`);
    }
    // a larger architecture starts from the smaller one's layers (its new weights at zero)
    if (metadata.architecture !== config.model) {
      const report = embedWeights(source, model);
      return [...report.embedded, ...report.fresh];
    }
    // per-position models have one head per character: another length, other weights
    const theirWeights = source.getWeights();
    const ours = model.getWeights();
    const fits = theirWeights.length === ours.length && theirWeights.every((w, i) => w.shape.join('x') === ours[i].shape.join('x'));
    if (!fits) {
      const lengthHint = metadata.length !== config.length ? `: it reads ${metadata.length} characters, this run ${config.length}; pass --length ${metadata.length}` : '; start from a model of the same settings';
      throw new Error(`--init-from '${dir}' has weights of other shapes than this ${config.model} model${lengthHint}`);
    }
    model.setWeights(theirWeights);
    return [];
  } finally {
    source.dispose();
  }
}

/**
 * Marks `config.freeze`'s layers untrainable (their batch norms still track batch statistics).
 * Refused: a name the model has no weights for, and a layer that did not come trained from
 * `initFrom` as it is (`untrained`: it would stay at its initialisation).
 */
function freezeLayers(model: tf.LayersModel, config: TrainConfig, untrained: readonly string[]): void {
  if (!config.freeze?.length) return;
  const withWeights = model.layers.filter((l) => l.getWeights().length > 0).map((l) => l.name);
  const unknown = config.freeze.filter((name) => !withWeights.includes(name));
  if (unknown.length > 0) {
    throw new Error(`freeze names ${unknown.map((n) => `'${n}'`).join(', ')}, which this ${config.model} model has no weights for; its layers with weights: ${withWeights.join(', ')}`);
  }
  if (!config.initFrom) {
    throw new Error('freeze keeps layers as a trained model left them: set initFrom too (frozen fresh layers would stay random)');
  }
  const fresh = config.freeze.filter((name) => untrained.includes(name));
  if (fresh.length > 0) {
    throw new Error(`freeze names ${fresh.map((n) => `'${n}'`).join(', ')}, which '${config.initFrom}' did not train as they are here (new, or grown with zeros): they must train; freeze other layers`);
  }
  for (const name of config.freeze) model.getLayer(name).trainable = false;
}

function disposeBatch(batch: LabeledBatch): void {
  batch.xs.dispose();
  batch.ys.dispose();
}

/**
 * A fine-tuning keeps the fit its starting model was trained with unless `fit` says otherwise
 * (a letterbox model fine-tuned as stretch would silently read its images another way). Set in
 * the config, so run.json records it and a resume needs no starting model.
 */
function withInheritedFit(config: TrainConfig): TrainConfig {
  if (config.fit !== undefined || !config.initFrom) return config;
  const fit = readModelMetadata(config.initFrom).input.fit;
  return fit && fit !== 'stretch' ? { ...config, fit } : config;
}

/**
 * Trains a model as `config` says (validated first). Returns when all epochs are done or the
 * signal aborts; either way the run folder holds a consistent checkpoint and run record.
 */
export async function train(configInput: Partial<TrainConfig>, options: TrainOptions = {}): Promise<TrainResult> {
  const config = options.resume ? resumedConfig(configInput) : withInheritedFit(resolveTrainConfig(configInput));
  // checked, created and locked before anything is trained; unlocked however training ends
  const folder = openRunFolder(config, options);
  try {
    return await trainInFolder(config, folder.runDir, options);
  } finally {
    folder.release();
  }
}

async function trainInFolder(config: TrainConfig, runDir: string, options: TrainOptions): Promise<TrainResult> {
  const cb = options.callbacks ?? {};
  const log = (line: string) => cb.onLog?.(line);
  const spec = getModelSpec(config.model);
  const input = {
    height: config.height ?? spec.defaultInput.height,
    width: config.width ?? spec.defaultInput.width,
    channels: config.channels ?? spec.defaultInput.channels,
    // stretch is what a model without `fit` does: saved as nothing, as before fits existed
    ...(config.fit && config.fit !== 'stretch' ? { fit: config.fit } : {}),
  };

  const checkpoint = options.resume ? await loadCheckpoint(runDir, config.model) : null;
  const model = checkpoint?.model ?? createModel(config.model, { ...input, numClasses: config.alphabet.length, numPositions: config.length, seed: config.seed, init: config.init });
  // What the setup below has made so far: a mistake in it (a bad initFrom or freeze, a missing
  // dataset, a wrong image size) frees it all, as the training loop's `finally` does once it runs.
  let optimizer: ReturnType<typeof createOptimizer>;
  let heads: ReturnType<typeof createHeadTraining>;
  const releaseSetup = () => {
    // (either may not exist yet when the setup fails)
    (heads as typeof heads | undefined)?.dispose();
    (optimizer as typeof optimizer | undefined)?.dispose();
    model.dispose();
  };
  let data: Awaited<ReturnType<typeof createTrainingData>>;
  try {
    const untrained = !checkpoint && config.initFrom ? await copyWeightsFrom(config.initFrom, model, config, input) : [];
    freezeLayers(model, config, untrained);
    optimizer = createOptimizer(config);
    // setWeights makes variables of copies (and reads the step count)
    if (checkpoint) await optimizer.setWeights(checkpoint.optimizerWeights);
    heads = createHeadTraining(spec.head, model, optimizer, config.alphabet);
    data = await createTrainingData(config, input, spec.head);
  } catch (err) {
    releaseSetup();
    throw err;
  } finally {
    // the checkpoint's decoded optimizer tensors are ours to free, used or not
    if (checkpoint) tf.dispose(checkpoint.optimizerWeights.map((w) => w.tensor));
  }
  // From here on, whatever happens (a mistake in the plateau settings, a failing --overwrite, a
  // caller's callback that throws, the end of the loop), the model, optimizer, heads, data and
  // plateau monitor are freed: the run folder holds the model, and a notebook that trains run after
  // run keeps no weights or Adam slots.
  let plateau: Awaited<ReturnType<typeof createPlateauMonitor>> | undefined;
  try {
    const backend = activeBackend();
    const metadata: ModelMetadata = {
      architecture: config.model, alphabet: config.alphabet, input, length: config.length, minLength: config.minLength ?? config.length,
      distinctCharacters: data.distinctCharacters, run: config.run,
    };
    // validation reads texts the way evaluate and predict will read the saved model's
    const textRules = textRulesOf(metadata);

    const now = new Date().toISOString();
    const record: RunRecord = checkpoint?.state.record ?? {
      config,
      architecture: config.model,
      input,
      backend: backend ? { name: backend.tfBackend, package: backend.package } : { name: tf.getBackend(), package: '@tensorflow/tfjs' },
      data: data.description,
      history: [],
      curve: [],
      trainedSeconds: 0,
      trainedImages: 0,
      bestEpoch: null,
      best: null,
      imagesPerSecond: 0,
      dataWaitFraction: 0,
      wallSeconds: 0,
      completed: false,
      versions: versions(),
      host: { cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
      startedAt: now,
      updatedAt: now,
    };
    let epoch = checkpoint?.state.epoch ?? 0;
    let batchIndex = checkpoint?.state.batch ?? 0;
    if (checkpoint) {
      const changed = configDifferences(effectiveConfig(record), config);
      if (Object.keys(changed).length > 0) {
        record.resumes = [...(record.resumes ?? []), { at: now, epoch: epoch + 1, batch: batchIndex, changed }];
        log(`resumed with changed settings: ${Object.entries(changed).map(([k, v]) => `${k} ${JSON.stringify(v.from)} -> ${JSON.stringify(v.to)}`).join(', ')}`);
      }
    }
    let globalStep = checkpoint?.state.globalStep ?? 0;
    let bestScore = checkpoint?.state.bestScore ?? -1;
    const totalSteps = config.epochs * data.batchesPerEpoch;
    // The plateau monitor checks its stop rules (e.g. refused with the probe off): made before
    // --overwrite removes anything, like everything else here that can fail.
    plateau = await createPlateauMonitor({
      model, config, head: spec.head, data, step: globalStep, previous: record.plateau,
      stopWhenStuck: options.stopWhenStuck, stopWhenEscaped: options.stopWhenEscaped, onUpdate: cb.onPlateau, log,
    });
    if (plateau) record.plateau = plateau.record;
    if (options.overwrite) {
      // only now that the new model, data and plateau monitor are ready: a mistake in the new settings changes nothing
      const setAside = setAsidePreviousRun(runDir);
      if (setAside) log(setAside);
    }
    cb.onStart?.({ config, data: data.description, batchesPerEpoch: data.batchesPerEpoch, resumedFrom: checkpoint ? `epoch ${epoch + 1}, batch ${batchIndex}` : null });
    log(`training ${config.model} on ${data.description}, ${config.epochs} epochs of ${data.batchesPerEpoch} batches`);

    // Earlier parts' wall time, then this part's clock: the history alone misses interrupted epochs.
    const wallBefore = record.wallSeconds;
    const partStart = performance.now();
    // An interrupted epoch's sums, carried into the resumed part of that epoch (then cleared).
    let partialEpoch: EpochTally | undefined = checkpoint?.state.partialEpoch;
    const saveState = async () => {
      record.updatedAt = new Date().toISOString();
      const sum = (f: (h: EpochMetrics) => number) => record.history.reduce((n, h) => n + f(h), 0);
      const trainSeconds = sum((h) => h.trainSeconds);
      record.wallSeconds = wallBefore + (performance.now() - partStart) / 1000;
      record.imagesPerSecond = trainSeconds > 0 ? sum((h) => h.images) / trainSeconds : 0;
      record.dataWaitFraction = trainSeconds > 0 ? sum((h) => h.dataWaitSeconds) / trainSeconds : 0;
      await saveCheckpoint(runDir, model, optimizer, metadata, { epoch, batch: batchIndex, globalStep, record, bestScore, partialEpoch });
      writeFileAtomic(path.join(runDir, RUN_JSON), JSON.stringify(record, null, 2));
    };

    const curvePeriod = config.curveEveryMinutes * 60;
    let nextCurveAt = (Math.floor(record.trainedSeconds / (curvePeriod || 1)) + 1) * curvePeriod;
    const addCurvePoint = async () => {
      const { report } = await validate(model, heads, spec.head, data, config, textRules, config.curveImages);
      const point: CurvePoint = {
        minutes: record.trainedSeconds / 60,
        images: record.trainedImages,
        wholeAccuracy: report.wholeAccuracy,
        characterAccuracy: report.characterAccuracy,
        count: report.count,
      };
      record.curve.push(point);
      log(`curve: ${point.minutes.toFixed(1)} min, ${point.images} images: whole ${(100 * point.wholeAccuracy).toFixed(2)}%`);
    };

    let interrupted = false;
    let stopped: TrainResult['stopped'] = null;
    while (epoch < config.epochs) {
      // per-position models report each head's training accuracy; CTC models have no heads
      const tally: EpochTally = partialEpoch ?? {
        lossSum: 0, seen: 0, correct: new Array<number>(spec.head === 'per-position' ? config.length : 0).fill(0), waitMs: 0, curveMs: 0, wallMs: 0,
      };
      partialEpoch = undefined;
      const epochStart = performance.now() - tally.wallMs;
      const batches = data.epochBatches(epoch, batchIndex);
      let lr = learningRateAt(config, globalStep, totalSteps);
      for (;;) {
        const batchStart = performance.now();
        // Yield to the event loop once per batch: with prefetched data every await below can
        // resolve as a microtask, and signal handlers (Ctrl-C, SIGTERM) would never get to run.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (options.signal?.aborted) {
          interrupted = true;
          break;
        }
        stopped = plateau?.stopReason() ?? null;
        if (stopped) break;
        const waitStart = performance.now();
        const next = await batches.next();
        tally.waitMs += performance.now() - waitStart;
        if (next.done) break;
        const batch = next.value;
        lr = learningRateAt(config, globalStep, totalSteps);
        setLearningRate(optimizer, lr);
        setDropoutStep(model, globalStep);
        const result = heads.step(batch);
        const [loss, hits] = await Promise.all([result.loss.data(), result.correct.data()]);
        result.loss.dispose();
        result.correct.dispose();
        const n = batch.texts.length;
        disposeBatch(batch);
        tally.lossSum += loss[0] * n;
        tally.seen += n;
        hits.forEach((h, i) => (tally.correct[i] += h));
        batchIndex++;
        globalStep++;
        record.trainedSeconds += (performance.now() - batchStart) / 1000;
        record.trainedImages += n;
        if (plateau) {
          const t = performance.now();
          await plateau.afterStep(globalStep, loss[0]);
          tally.curveMs += performance.now() - t;
        }
        if (curvePeriod > 0 && record.trainedSeconds >= nextCurveAt) {
          const t = performance.now();
          await addCurvePoint();
          nextCurveAt = (Math.floor(record.trainedSeconds / curvePeriod) + 1) * curvePeriod;
          tally.curveMs += performance.now() - t;
        }
        const seconds = (performance.now() - epochStart - tally.curveMs) / 1000;
        cb.onBatch?.({
          epoch,
          batch: batchIndex,
          batchesPerEpoch: data.batchesPerEpoch,
          loss: tally.lossSum / tally.seen,
          headAccuracy: tally.correct.map((c) => c / tally.seen),
          imagesPerSecond: tally.seen / seconds,
        });
      }
      if (interrupted || stopped) {
        await batches.return(undefined);
        tally.wallMs = performance.now() - epochStart;
        partialEpoch = tally;
        break;
      }
      const { lossSum, seen, correct } = tally;
      const trainSeconds = (performance.now() - epochStart - tally.curveMs) / 1000;
      const val = await validate(model, heads, spec.head, data, config, textRules);
      const metrics: EpochMetrics = {
        epoch: epoch + 1,
        loss: seen ? lossSum / seen : NaN,
        headAccuracy: correct.map((c) => (seen ? c / seen : NaN)),
        valLoss: val.loss,
        valCharacterAccuracy: val.report.characterAccuracy,
        valWholeAccuracy: val.report.wholeAccuracy,
        valHeadAccuracy: val.report.perPositionAccuracy,
        learningRate: lr,
        images: seen,
        imagesPerSecond: seen / trainSeconds,
        trainSeconds,
        dataWaitSeconds: tally.waitMs / 1000,
        seconds: (performance.now() - epochStart) / 1000,
      };
      record.history.push(metrics);
      cb.onEpochEnd?.(metrics);
      epoch++;
      batchIndex = 0;
      // Best = highest whole-image accuracy, ties broken by character accuracy.
      const score = metrics.valWholeAccuracy + 1e-3 * metrics.valCharacterAccuracy;
      if (score > bestScore) {
        bestScore = score;
        record.bestEpoch = metrics.epoch;
        record.best = { valCharacterAccuracy: metrics.valCharacterAccuracy, valWholeAccuracy: metrics.valWholeAccuracy };
        await saveModelFiles(runDir, model, metadata);
      }
      record.completed = epoch >= config.epochs;
      await saveState();
      // the run this one replaces (--overwrite) is no longer needed once this run's model and record are saved
      if (record.bestEpoch !== null && dropReplacedRun(runDir)) log(`deleted the replaced run kept in ${path.join(runDir, REPLACED_RUN)}`);
    }
    if (interrupted) {
      log(`interrupted at epoch ${epoch + 1}, batch ${batchIndex}: checkpoint saved; continue with --resume`);
      await saveState();
    } else if (stopped && plateau) {
      plateau.markStopped(globalStep, stopped);
      log(`stopped at step ${globalStep} (epoch ${epoch + 1}, batch ${batchIndex}): ${describePlateau(plateau.record)}; checkpoint saved; --resume trains on`);
      await saveState();
    }
    if (keepsReplacedRun(runDir)) {
      log(`the run this one replaces is kept in ${path.join(runDir, REPLACED_RUN)} until this run saves a model; ${restoreHint(runDir)}`);
    }
    return { record, runDir, interrupted, stopped };
  } finally {
    plateau?.dispose();
    try {
      await data.close();
    } finally {
      releaseSetup();
    }
  }
}

/**
 * The best model goes to the run folder itself (model.json, weights.bin, metadata.json) beside
 * run.json and checkpoint/; each file is replaced atomically, weights first.
 */
async function saveModelFiles(runDir: string, model: tf.LayersModel, metadata: ModelMetadata): Promise<void> {
  const files = await modelToFiles(model);
  writeFileAtomic(path.join(runDir, 'weights.bin'), files['weights.bin']);
  writeFileAtomic(path.join(runDir, 'model.json'), files['model.json']);
  writeFileAtomic(path.join(runDir, 'metadata.json'), JSON.stringify(metadata, null, 2));
}
