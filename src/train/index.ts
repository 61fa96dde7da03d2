export { train, effectiveConfig } from './trainer';
export type { TrainOptions, TrainResult, TrainCallbacks, RunRecord, ConfigChange, EpochMetrics, BatchProgress } from './trainer';
export { DEFAULT_TRAIN_CONFIG, TrainConfigSchema, resolveTrainConfig, learningRateAt, OPTIMIZERS, SCHEDULES, DATA_SOURCES } from './config';
export type { TrainConfig } from './config';
export { createTrainStep, perPositionLoss, correctPerHead, headsLoss, DEFAULT_TRAIN_STEP_OPTIONS } from './step';
export type { StepResult, TrainStep, TrainStepOptions, TrainStepInfo } from './step';
export { createTrainingData } from './data-source';
export { readRunRecord, findRunRecord, RUN_JSON } from './run-record';
export type { TrainingData } from './data-source';
