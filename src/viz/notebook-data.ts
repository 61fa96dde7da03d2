/**
 * The file-level steps the notebooks share: what a dataset folder holds, a run's record, and
 * evaluating a trained run on its own held-out split with the image file of every prediction, so
 * the error-analysis notebook can draw what the model got wrong.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs';
import { FolderDataset } from '../data/loader';
import { splitIndices } from '../data/split';
import { evaluateModel } from '../eval/evaluate';
import type { EvaluationReport } from '../eval/metrics';
import { getModelSpec } from '../models/registry';
import { loadModel, type ModelMetadata } from '../models/io';
import type { RunRecord } from '../train/trainer';
import { runTimePoints, type TimePoint } from './figures';

/** Prefix of the folders the notebooks own (`data/nb-captchas`, `models/nb-seed`). */
export const NOTEBOOK_FOLDER_PREFIX = 'nb-';

/**
 * Deletes a folder the notebooks own, so that rerunning a notebook with new parameters starts
 * clean. Refuses folders whose name lacks the `nb-` prefix: a parameter pointing at a real
 * dataset or run must never wipe it.
 */
export function clearNotebookFolder(dir: string): void {
  const name = path.basename(path.resolve(dir));
  if (!name.startsWith(NOTEBOOK_FOLDER_PREFIX)) {
    throw new Error(`refusing to delete '${dir}': notebooks only replace folders named ${NOTEBOOK_FOLDER_PREFIX}*; pick such a folder or delete it yourself`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Total bytes of the image files (`.png`, `.jpg`) directly in `dir`. */
export function folderImageBytes(dir: string): number {
  if (!fs.existsSync(dir)) throw new Error(`folder '${dir}' does not exist`);
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/** `run.json` of a training run folder. */
export function readRunRecord(runDir: string): RunRecord {
  const file = path.join(runDir, 'run.json');
  if (!fs.existsSync(file)) {
    throw new Error(`no run.json in '${runDir}'; train first (notebook 03 or \`npm run train -- --run <name>\`)`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
}

export interface HeldOutEvaluation {
  report: EvaluationReport & { predictions: string[]; actual: string[] };
  /** Image file of each evaluated image, in report order (`report.misreads[i].index` indexes it). */
  files: string[];
  model: tf.LayersModel;
  metadata: ModelMetadata;
  record: RunRecord;
}

export interface EvaluateHeldOutOptions {
  /** The dataset folder; the run's own `dataDir` when unset. */
  dataDir?: string;
  /** Images per batch. @default 64 */
  batchSize?: number;
}

export const DEFAULT_EVALUATE_HELD_OUT_OPTIONS: Required<Omit<EvaluateHeldOutOptions, 'dataDir'>> = {
  batchSize: 64,
};

/**
 * Loads the best model of a run folder and evaluates it on the images the run held out: the same
 * seeded split of the same dataset that training validated on, never trained on.
 */
export async function evaluateHeldOut(runDir: string, options: EvaluateHeldOutOptions = {}): Promise<HeldOutEvaluation> {
  const opts = { ...DEFAULT_EVALUATE_HELD_OUT_OPTIONS, ...options };
  const record = readRunRecord(runDir);
  const { config } = record;
  const dataDir = opts.dataDir ?? config.dataDir;
  if (config.source !== 'folder' || !dataDir) {
    throw new Error(`run '${runDir}' trained on ${config.source} data, which has no held-out folder split; evaluate it with \`npm run evaluate -- --fresh 1000\``);
  }
  const { model, metadata } = await loadModel(runDir);
  const dataset = await FolderDataset.open({ dir: dataDir, alphabet: metadata.alphabet, input: metadata.input, resize: true });
  const size = config.datasetSize ?? dataset.size;
  if (size > dataset.size) {
    throw new Error(`run '${runDir}' trained on ${size} images but '${dataDir}' now holds ${dataset.size}; regenerate the dataset of that run`);
  }
  const { test } = splitIndices(size, config.validationSplit, config.seed);
  const report = await evaluateModel(model, dataset.batches(test, opts.batchSize), {
    alphabet: metadata.alphabet,
    head: getModelSpec(metadata.architecture).head,
  });
  return { report, files: test.map((i) => dataset.imagePath(i)), model, metadata, record };
}

/**
 * Accuracy-over-time series of the runs that exist among `runs` (others are skipped), for
 * comparing architectures: e.g. the pretrained CRNN against the replicated original network.
 */
export function comparedRunCurves(runs: ReadonlyArray<{ name: string; dir: string }>): Array<{ name: string; points: TimePoint[] }> {
  return runs
    .filter((r) => fs.existsSync(path.join(r.dir, 'run.json')))
    .map((r) => ({ name: r.name, points: [{ minutes: 0, wholeAccuracy: 0 }, ...runTimePoints(readRunRecord(r.dir))] }));
}
