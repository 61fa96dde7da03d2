export { DEFAULT_ALPHABET } from './charset';
export type { ModelOptions, HeadKind } from './types';
export { createModel, getModelSpec, listModels, registerModel, DEFAULT_MODEL_OPTIONS } from './registry';
export type { ModelSpec } from './registry';
export { embedWeights } from './embed-weights';
export type { EmbedReport } from './embed-weights';
export { createSeedNet } from './seed-net';
export { INIT_SCHEMES, kernelInitializers, mathematicaLimit } from './init';
export type { InitScheme } from './init';
export { createSeedBnNet } from './seed-bn-net';
export { SeededDropout, setDropoutStep } from './seeded-dropout';
export { summarizeModel, formatSummary } from './summary';
export type { ModelSummary, LayerSummaryRow } from './summary';
export { saveModel, loadModel, loadZeroOReader, readModelMetadata, textRulesOf, weightsDigest } from './io';
export type { ModelMetadata, LoadedModel } from './io';
export { logitShiftAt, logitShiftProblem, shiftLogitPair, shiftLogits } from './logit-shift';
export type { LogitShift, SourceSize } from './logit-shift';
export {
  ctcLoss, ctcGreedyDecode, ctcConstrainedDecode, ctcIndicesToText, encodeCtcLabels, readCtcLabels, textsToCtcLabels, DEFAULT_CTC_LOSS_OPTIONS,
} from './ctc';
export type { CtcLabels, CtcLossOptions, TextRules } from './ctc';
export { createCrnnNet, crnnLoss, crnnDecode, crnnTimeSteps, DEFAULT_CRNN_NET_OPTIONS } from './crnn-net';
export type { CrnnNetOptions, CrnnHead } from './crnn-net';
export { createBenchNet } from './bench-net';
