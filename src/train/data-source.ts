/**
 * Where training batches come from: a generated dataset folder (split 90/10 by seed, reshuffled
 * every epoch by seed) or the streaming generator (fresh images every epoch, a fixed validation
 * set). Both are deterministic functions of (config, epoch, batch), which is what makes a resumed
 * run identical to an uninterrupted one.
 */
import { FolderDataset, type LabeledBatch } from '../data/loader';
import { shuffledIndices, splitIndices } from '../data/split';
import type { InputShape } from '../data/tensors';
import type { HeadKind } from '../models/types';
import type { TrainConfig } from './config';
import { createStreamTrainingData } from './stream-source';

export interface TrainingData {
  /** One line for logs: what the data is. */
  description: string;
  batchesPerEpoch: number;
  trainCount: number;
  validationCount: number;
  /** Every text has distinct characters (recorded in the model's metadata, used when decoding). */
  distinctCharacters: boolean;
  /** Batches of `epoch`, starting at batch index `start` (to resume mid-epoch). */
  epochBatches(epoch: number, start: number): AsyncGenerator<LabeledBatch>;
  /** The validation set, in a fixed order. */
  validationBatches(batchSize: number): AsyncGenerator<LabeledBatch>;
  close(): Promise<void>;
}

/** Seed of epoch `epoch`'s shuffle: distinct per epoch, fixed per run seed. */
export function epochSeed(seed: number, epoch: number): number {
  return (seed * 7919 + epoch * 104729 + 1) >>> 0;
}

export async function createFolderTrainingData(config: TrainConfig, input: InputShape): Promise<TrainingData> {
  const dataset = await FolderDataset.open({
    dir: config.dataDir as string,
    alphabet: config.alphabet,
    input,
    resize: config.resize,
  });
  if (dataset.labelLength !== config.length) {
    throw new Error(`'${config.dataDir}' has ${dataset.labelLength}-character labels but length=${config.length}; pass --length ${dataset.labelLength}`);
  }
  const size = config.datasetSize ?? dataset.size;
  if (size > dataset.size) {
    throw new Error(`dataset size ${size} exceeds the ${dataset.size} images in '${config.dataDir}'; generate more or lower --dataset-size`);
  }
  const split = splitIndices(size, config.validationSplit, config.seed);
  const { batchSize } = config;
  return {
    description: `folder ${config.dataDir}: ${split.train.length} train / ${split.test.length} validation images`,
    batchesPerEpoch: Math.ceil(split.train.length / batchSize),
    trainCount: split.train.length,
    validationCount: split.test.length,
    distinctCharacters: dataset.texts.every((t) => new Set(t).size === t.length),
    epochBatches(epoch, start) {
      const order = shuffledIndices(split.train.length, epochSeed(config.seed, epoch)).map((i) => split.train[i]);
      return dataset.batches(order.slice(start * batchSize), batchSize);
    },
    validationBatches(evalBatchSize) {
      return dataset.batches(split.test, evalBatchSize);
    },
    close: async () => undefined,
  };
}

export async function createTrainingData(config: TrainConfig, input: InputShape, head: HeadKind): Promise<TrainingData> {
  return config.source === 'folder' ? createFolderTrainingData(config, input) : createStreamTrainingData(config, input, head);
}
