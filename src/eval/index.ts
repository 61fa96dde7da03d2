export { scorePredictions, formatReport, formatConfusionPairs } from './metrics';
export type { EvaluationReport, ConfusionPair, Misread } from './metrics';
export { predictTexts } from './predict';
export { evaluateModel } from './evaluate';
export { evaluateHeldOut, DEFAULT_EVALUATE_HELD_OUT_OPTIONS } from './held-out';
export type { HeldOutEvaluation, EvaluateHeldOutOptions } from './held-out';
export type { TextBatch, EvaluateOptions } from './evaluate';
export { activationStats, formatActivationStats } from './activations';
export type { LayerActivationStats } from './activations';
