import { strict as assert } from 'assert';
import * as viz from '../../src/viz';

describe('src/viz exports', () => {
  it('exports exactly its public names', () => {
    assert.deepEqual(Object.keys(viz).sort(), [
      'DEFAULT_ACCURACY_OVER_TIME_OPTIONS', 'DEFAULT_CHARACTER_FREQUENCY_FIGURE_OPTIONS', 'DEFAULT_CONFUSION_HEATMAP_OPTIONS', 'DEFAULT_DEAD_FRACTION_FIGURE_OPTIONS',
      'DEFAULT_ENV_NUMBER_OPTIONS', 'DEFAULT_GRID_OPTIONS', 'DEFAULT_PLOTLY_HTML_OPTIONS',
      'DEFAULT_TABLE_HTML_OPTIONS', 'DEFAULT_TRAINING_CURVES_OPTIONS', 'DEFAULT_TRAINING_MONITOR_OPTIONS', 'DEFAULT_VIEW_ACCURACY_FIGURE_OPTIONS', 'HEAD_COLORS',
      'NOTEBOOK_FOLDER_PREFIX', 'PLOTLY_MIME', 'accuracyOverTimeFigure', 'accuracyRows', 'characterFrequencies',
      'characterFrequencyFigure', 'clearNotebookFolder', 'comparedRunCurves', 'confusionHeatmapFigure', 'confusionPairRows', 'createNotebookDisplay',
      'createTrainingMonitor', 'datasetStatistics', 'deadFractionFigure', 'envCount', 'envNumber', 'envString', 'epochRows',
      'folderImageBytes', 'formatBatchProgress', 'formatEpochSummary', 'forwardPassRows', 'gridLayout', 'headAccuracyFigure',
      'historyTimePoints', 'lossFigure', 'matrixComparisonRows', 'matrixHeatmapFigure', 'misreadGridItems', 'modelRegistryRows', 'plateauExamples', 'plotlyBundle', 'plotlyCdnUrl', 'plotlyHtml',
      'pngBundle', 'pngSize', 'predictionGridItems', 'renderGrid', 'roundGlyphLookItems', 'runTimePoints', 'sampleGridItems',
      'settingsRows', 'tableBundle', 'tableCells', 'tableHtml', 'tableText', 'trainingCurvesFigure', 'tslabSink', 'viewAccuracyFigure', 'zeroOLeanFigure',
    ]);
  });
});
