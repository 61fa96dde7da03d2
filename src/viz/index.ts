/** Charts, image grids, tables and the tslab display the notebooks show them with. */
export {
  lossFigure,
  headAccuracyFigure,
  trainingCurvesFigure,
  confusionHeatmapFigure,
  accuracyOverTimeFigure,
  historyTimePoints,
  runTimePoints,
  characterFrequencyFigure,
  viewAccuracyFigure,
  deadFractionFigure,
  matrixHeatmapFigure,
  zeroOLeanFigure,
  HEAD_COLORS,
  DEFAULT_TRAINING_CURVES_OPTIONS,
  DEFAULT_CONFUSION_HEATMAP_OPTIONS,
  DEFAULT_ACCURACY_OVER_TIME_OPTIONS,
  DEFAULT_CHARACTER_FREQUENCY_FIGURE_OPTIONS,
  DEFAULT_VIEW_ACCURACY_FIGURE_OPTIONS,
  DEFAULT_DEAD_FRACTION_FIGURE_OPTIONS,
} from './figures';
export type {
  PlotlyFigure,
  PlotlyTrace,
  EpochPoint,
  BatchPoint,
  TrainingCurvesOptions,
  ConfusionHeatmapOptions,
  TimePoint,
  TimeSeries,
  AccuracyOverTimeOptions,
  CharacterFrequencyFigureOptions,
  ViewAccuracyFigureOptions,
  DeadFractionSeries,
  DeadFractionFigureOptions,
  MatrixFigureCell,
  LeanFigureCell,
} from './figures';
export { renderGrid, gridLayout, sampleGridItems, predictionGridItems, misreadGridItems, roundGlyphLookItems, DEFAULT_GRID_OPTIONS } from './grid';
export type { GridItem, GridOptions, GridLayout, RgbImage } from './grid';
export {
  characterFrequencies,
  datasetStatistics,
  accuracyRows,
  confusionPairRows,
  matrixComparisonRows,
  settingsRows,
  epochRows,
  modelRegistryRows,
  tableHtml,
  tableText,
  tableCells,
  DEFAULT_TABLE_HTML_OPTIONS,
} from './tables';
export type {
  TableLike,
  Row,
  CharacterFrequencyRow,
  DatasetStatisticsRow,
  DatasetStatisticsOptions,
  AccuracyRow,
  ConfusionPairRow,
  ComparedMatrixCell,
  MatrixComparisonRow,
  EpochRow,
  TableHtmlOptions,
} from './tables';
export {
  createNotebookDisplay,
  tslabSink,
  plotlyBundle,
  plotlyHtml,
  plotlyCdnUrl,
  pngBundle,
  pngSize,
  tableBundle,
  PLOTLY_MIME,
  DEFAULT_PLOTLY_HTML_OPTIONS,
} from './display';
export type { NotebookDisplay, NotebookDisplayOptions, LiveOutput, DisplaySink, MimeBundle, PlotlyHtmlOptions } from './display';
export { createTrainingMonitor, formatBatchProgress, formatEpochSummary, DEFAULT_TRAINING_MONITOR_OPTIONS } from './monitor';
export type { TrainingMonitor, TrainingMonitorOptions } from './monitor';
export { envNumber, envCount, envString, DEFAULT_ENV_NUMBER_OPTIONS } from './params';
export type { EnvNumberOptions } from './params';
export { folderImageBytes, comparedRunCurves, clearNotebookFolder, plateauExamples, NOTEBOOK_FOLDER_PREFIX } from './notebook-data';
export type { PlateauRun } from './notebook-data';
export { forwardPassRows } from './model-views';
export type { ForwardPassRow } from './model-views';
