export { scorePredictions, formatReport, formatConfusionPairs } from './metrics';
export type { EvaluationReport, ConfusionPair, Misread } from './metrics';
export { predictTexts } from './predict';
export { evaluateModel } from './evaluate';
export type { TextBatch, EvaluateOptions } from './evaluate';
export { activationStats, formatActivationStats } from './activations';
export type { LayerActivationStats } from './activations';
