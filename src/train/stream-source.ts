import type { InputShape } from '../data/tensors';
import type { TrainConfig } from './config';
import type { TrainingData } from './data-source';

export async function createStreamTrainingData(config: TrainConfig, input: InputShape): Promise<TrainingData> {
  void config;
  void input;
  throw new Error('stream source: pending the generator stream');
}
