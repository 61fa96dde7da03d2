/**
 * Evaluating a trained run on its own held-out split, with the image file of every prediction, so
 * the error-analysis notebook can draw what the model got wrong.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs';
import { FolderDataset } from '../data/loader';
import { splitIndices } from '../data/split';
import { getModelSpec } from '../models/registry';
import { loadModel, textRulesOf, type ModelMetadata } from '../models/io';
import { readRunRecord } from '../train/run-record';
import { CHECKPOINT } from '../train/run-folder';
import type { RunRecord } from '../train/trainer';
import { evaluateModel } from './evaluate';
import type { EvaluationReport } from './metrics';
import { withDefaults } from '../options';

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
  /**
   * Evaluate the run's latest weights (`<runDir>/checkpoint`) instead of its best epoch's model: a
   * run stopped before the end of its first epoch has only those. @default false
   */
  checkpoint?: boolean;
}

export const DEFAULT_EVALUATE_HELD_OUT_OPTIONS: Required<Omit<EvaluateHeldOutOptions, 'dataDir'>> = {
  batchSize: 64,
  checkpoint: false,
};

/**
 * The dataset folder of a run. The CLI records it as given, often relative to the project root
 * (`data/seed-51200`), while a notebook runs in `notebooks/`: a relative folder missing from the
 * working directory is looked up from the project root, taken as the run folder's grandparent
 * (`<root>/models/<run>`).
 */
function runDataDir(runDir: string, dataDir: string): string {
  if (path.isAbsolute(dataDir) || fs.existsSync(dataDir)) return dataDir;
  const fromRoot = path.resolve(runDir, '..', '..', dataDir);
  return fs.existsSync(fromRoot) ? fromRoot : dataDir;
}

/**
 * Loads the best model of a run folder and evaluates it on the images the run held out: the same
 * seeded split of the same dataset that training validated on, never trained on.
 */
export async function evaluateHeldOut(runDir: string, options: EvaluateHeldOutOptions = {}): Promise<HeldOutEvaluation> {
  const opts = withDefaults(DEFAULT_EVALUATE_HELD_OUT_OPTIONS, options);
  const record = readRunRecord(runDir);
  const { config } = record;
  const dataDir = opts.dataDir ?? (config.dataDir && runDataDir(runDir, config.dataDir));
  if (config.source !== 'folder' || !dataDir) {
    throw new Error(`run '${runDir}' trained on ${config.source} data, which has no held-out folder split; evaluate it with \`npm run evaluate -- --fresh 1000\``);
  }
  const { model, metadata } = await loadModel(opts.checkpoint ? path.join(runDir, CHECKPOINT) : runDir);
  const dataset = await FolderDataset.open({ dir: dataDir, alphabet: metadata.alphabet, input: metadata.input, resize: true });
  const size = config.datasetSize ?? dataset.size;
  if (size > dataset.size) {
    throw new Error(`run '${runDir}' trained on ${size} images but '${dataDir}' now holds ${dataset.size}; regenerate the dataset of that run`);
  }
  const { test } = splitIndices(size, config.validationSplit, config.seed);
  const report = await evaluateModel(model, dataset.batches(test, opts.batchSize), {
    alphabet: metadata.alphabet,
    head: getModelSpec(metadata.architecture).head,
    textRules: textRulesOf(metadata),
  });
  return { report, files: test.map((i) => dataset.imagePath(i)), model, metadata, record };
}

