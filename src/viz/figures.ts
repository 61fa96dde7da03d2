/**
 * Plotly figure specs as plain JSON: pure functions of a run's history or an evaluation report.
 * They render through `application/vnd.plotly.v1+json` in JupyterLab (see ./display.ts) and
 * through plotly.js anywhere else (`Plotly.newPlot(div, fig.data, fig.layout)`).
 */

/** One plotly trace (`scatter`, `heatmap` ...); only the fields we set are typed. */
export interface PlotlyTrace {
  type: string;
  name?: string;
  x?: Array<number | string>;
  y?: Array<number | string>;
  z?: Array<Array<number | null>>;
  [key: string]: unknown;
}

/** A figure as plotly.js and the Jupyter plotly renderer take it. */
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/**
 * The fields of one epoch of a run's history (`run.json`) that the curves use; `EpochMetrics`
 * of src/train has them all. Accuracies are fractions.
 */
export interface EpochPoint {
  /** 1-based epoch number: the point sits at the end of that epoch. */
  epoch: number;
  loss: number;
  headAccuracy: number[];
  valLoss: number;
  valHeadAccuracy: number[];
  valWholeAccuracy?: number;
  /** Seconds of the whole epoch, validation included (for accuracy over time). */
  seconds?: number;
}

/**
 * One training batch as the trainer's `onBatch` reports it, for curves finer than an epoch.
 * `loss` and `headAccuracy` are running means over the epoch so far.
 */
export interface BatchPoint {
  /** 0-based epoch index. */
  epoch: number;
  /** 1-based batch number within the epoch. */
  batch: number;
  batchesPerEpoch: number;
  loss: number;
  headAccuracy: number[];
}

export interface TrainingCurvesOptions {
  /**
   * Per-batch points; when given, the training curves follow them instead of the per-epoch means.
   * @default []
   */
  batches?: readonly BatchPoint[];
  /** Figure title. @default 'Training' */
  title?: string;
  /** Figure height in pixels. @default 380 */
  height?: number;
}

export const DEFAULT_TRAINING_CURVES_OPTIONS: Required<TrainingCurvesOptions> = {
  batches: [],
  title: 'Training',
  height: 380,
};

/** Qualitative colours (plotly's default cycle), one per head; train and validation share a colour. */
export const HEAD_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const TRAIN_COLOR = '#1f77b4';
const VALIDATION_COLOR = '#d62728';

/** Epochs completed at a batch: the x of a batch point on an axis measured in epochs. */
function batchX(b: BatchPoint): number {
  return b.epoch + b.batch / b.batchesPerEpoch;
}

function checkHistory(history: readonly EpochPoint[]): void {
  if (!Array.isArray(history)) {
    throw new Error(`history must be an array of epochs (run.json's "history"), got ${typeof history}`);
  }
}

function headCount(history: readonly EpochPoint[], batches: readonly BatchPoint[]): number {
  return Math.max(0, ...history.map((h) => h.headAccuracy.length), ...batches.map((b) => b.headAccuracy.length));
}

/**
 * A training metric: per batch when batch points were recorded (live training), else one marker
 * per epoch from the history.
 */
function trainTrace(
  name: string,
  history: readonly EpochPoint[],
  batches: readonly BatchPoint[],
  value: (p: EpochPoint | BatchPoint) => number,
): PlotlyTrace {
  return batches.length
    ? { type: 'scatter', mode: 'lines', name, x: batches.map(batchX), y: batches.map(value) }
    : { type: 'scatter', mode: 'lines+markers', name, x: history.map((h) => h.epoch), y: history.map(value) };
}

function lossTraces(history: readonly EpochPoint[], batches: readonly BatchPoint[], axis: string): PlotlyTrace[] {
  const train = trainTrace('train loss', history, batches, (p) => p.loss);
  const validation: PlotlyTrace = {
    type: 'scatter',
    mode: 'lines+markers',
    name: 'validation loss',
    x: history.map((h) => h.epoch),
    y: history.map((h) => h.valLoss),
  };
  return [
    { ...train, line: { color: TRAIN_COLOR }, legendgroup: 'loss', xaxis: `x${axis}`, yaxis: `y${axis}` },
    { ...validation, line: { color: VALIDATION_COLOR, dash: 'dash' }, legendgroup: 'loss', xaxis: `x${axis}`, yaxis: `y${axis}` },
  ];
}

function accuracyTraces(history: readonly EpochPoint[], batches: readonly BatchPoint[], axis: string): PlotlyTrace[] {
  const traces: PlotlyTrace[] = [];
  for (let head = 0; head < headCount(history, batches); head++) {
    const color = HEAD_COLORS[head % HEAD_COLORS.length];
    const common = { xaxis: `x${axis}`, yaxis: `y${axis}`, legendgroup: `head${head + 1}` };
    traces.push(
      { ...trainTrace(`head ${head + 1} train`, history, batches, (p) => p.headAccuracy[head]), line: { color }, ...common },
      {
        type: 'scatter',
        mode: 'lines+markers',
        name: `head ${head + 1} validation`,
        x: history.map((h) => h.epoch),
        y: history.map((h) => h.valHeadAccuracy[head]),
        line: { color, dash: 'dash' },
        ...common,
      },
    );
  }
  return traces;
}

const epochAxis = (extra: Record<string, unknown> = {}) => ({ title: { text: 'epoch' }, rangemode: 'tozero', ...extra });

/** Train and validation loss against epochs. */
export function lossFigure(history: readonly EpochPoint[], options: TrainingCurvesOptions = {}): PlotlyFigure {
  checkHistory(history);
  const opts = { ...DEFAULT_TRAINING_CURVES_OPTIONS, title: 'Loss', ...options };
  return {
    data: lossTraces(history, opts.batches, ''),
    layout: { title: { text: opts.title }, height: opts.height, xaxis: epochAxis(), yaxis: { title: { text: 'loss (sum over heads)' } } },
  };
}

/** Per-head accuracy, train (solid) and validation (dashed, same colour), against epochs. */
export function headAccuracyFigure(history: readonly EpochPoint[], options: TrainingCurvesOptions = {}): PlotlyFigure {
  checkHistory(history);
  const opts = { ...DEFAULT_TRAINING_CURVES_OPTIONS, title: 'Accuracy per head', ...options };
  return {
    data: accuracyTraces(history, opts.batches, ''),
    layout: { title: { text: opts.title }, height: opts.height, xaxis: epochAxis(), yaxis: { title: { text: 'accuracy' }, range: [0, 1] } },
  };
}

/**
 * Loss (left) and per-head accuracy (right) side by side, train vs validation: the chart the
 * training notebook redraws after every epoch.
 */
export function trainingCurvesFigure(history: readonly EpochPoint[], options: TrainingCurvesOptions = {}): PlotlyFigure {
  checkHistory(history);
  const opts = { ...DEFAULT_TRAINING_CURVES_OPTIONS, ...options };
  return {
    data: [...lossTraces(history, opts.batches, ''), ...accuracyTraces(history, opts.batches, '2')],
    layout: {
      title: { text: opts.title },
      height: opts.height,
      grid: { rows: 1, columns: 2, pattern: 'independent' },
      xaxis: epochAxis({ domain: [0, 0.42] }),
      yaxis: { title: { text: 'loss (sum over heads)' } },
      xaxis2: epochAxis({ domain: [0.55, 1] }),
      yaxis2: { title: { text: 'accuracy' }, range: [0, 1] },
      annotations: [
        { text: 'loss', showarrow: false, xref: 'x domain', yref: 'y domain', x: 0.5, y: 1.08 },
        { text: 'accuracy per head (dashed: validation)', showarrow: false, xref: 'x2 domain', yref: 'y2 domain', x: 0.5, y: 1.08 },
      ],
      legend: { font: { size: 10 } },
      margin: { t: 70 },
    },
  };
}

export interface ConfusionHeatmapOptions {
  /**
   * Leave the diagonal (right answers) blank: it holds most of the counts and would flatten the
   * colour scale of the confusions, which are what the chart is for.
   * @default true
   */
  hideDiagonal?: boolean;
  /** Figure title. @default 'Confusion matrix (rows: true, columns: predicted)' */
  title?: string;
  /** Figure height in pixels; the width follows. @default 640 */
  height?: number;
}

export const DEFAULT_CONFUSION_HEATMAP_OPTIONS: Required<ConfusionHeatmapOptions> = {
  hideDiagonal: true,
  title: 'Confusion matrix (rows: true, columns: predicted)',
  height: 640,
};

/**
 * A heatmap of a k x k confusion matrix (rows: true class, columns: predicted class, in alphabet
 * order), with the true classes top to bottom.
 */
export function confusionHeatmapFigure(matrix: readonly (readonly number[])[], alphabet: string, options: ConfusionHeatmapOptions = {}): PlotlyFigure {
  const opts = { ...DEFAULT_CONFUSION_HEATMAP_OPTIONS, ...options };
  const k = alphabet.length;
  if (matrix.length !== k || matrix.some((row) => row.length !== k)) {
    throw new Error(`confusion matrix must be ${k}x${k} for the ${k}-character alphabet '${alphabet}', got ${matrix.length}x${matrix[0]?.length ?? 0}`);
  }
  const labels = [...alphabet];
  const z = matrix.map((row, i) => row.map((v, j) => (opts.hideDiagonal && i === j ? null : v)));
  // Category axes: otherwise plotly reads the labels '0'..'9' as numbers.
  const axis = (title: string, extra: Record<string, unknown> = {}) => ({ title: { text: title }, type: 'category', tickfont: { family: 'monospace', size: 10 }, ...extra });
  return {
    data: [
      {
        type: 'heatmap',
        x: labels,
        y: labels,
        z,
        // White for zero, so the hidden diagonal (no value) shows the grey plot background.
        colorscale: [
          [0, '#ffffff'],
          [1, '#b2182b'],
        ],
        zmin: 0,
        hoverongaps: false,
        hovertemplate: 'true %{y}, read as %{x}: %{z}<extra></extra>',
        colorbar: { title: { text: 'count' } },
      },
    ],
    layout: {
      title: { text: opts.hideDiagonal ? `${opts.title}, right answers hidden` : opts.title },
      height: opts.height,
      width: opts.height + 80,
      plot_bgcolor: '#d9d9d9',
      // Square cells; the axes shrink to the matrix instead of padding it with background.
      xaxis: axis('predicted', { side: 'bottom', constrain: 'domain' }),
      yaxis: axis('true', { autorange: 'reversed', scaleanchor: 'x', constrain: 'domain' }),
    },
  };
}

/** Whole-image accuracy reached after some minutes of training. */
export interface TimePoint {
  minutes: number;
  wholeAccuracy: number;
}

/** A named curve of accuracy over training time (one run, one backend, one model ...). */
export interface TimeSeries {
  name: string;
  points: readonly TimePoint[];
}

export interface AccuracyOverTimeOptions {
  /** Figure title. @default 'Whole-image accuracy over training time' */
  title?: string;
  /** Figure height in pixels. @default 380 */
  height?: number;
  /** Where the accuracy axis starts (a fraction), to show runs that differ by tenths of a point. @default 0 */
  yMin?: number;
}

export const DEFAULT_ACCURACY_OVER_TIME_OPTIONS: Required<AccuracyOverTimeOptions> = {
  title: 'Whole-image accuracy over training time',
  height: 380,
  yMin: 0,
};

/**
 * Accuracy against wall-clock minutes of training, one line per series (a single list of points
 * makes one series called 'accuracy').
 */
export function accuracyOverTimeFigure(series: readonly TimeSeries[] | readonly TimePoint[], options: AccuracyOverTimeOptions = {}): PlotlyFigure {
  const opts = { ...DEFAULT_ACCURACY_OVER_TIME_OPTIONS, ...options };
  const list: readonly TimeSeries[] =
    series.length > 0 && 'minutes' in series[0] ? [{ name: 'accuracy', points: series as readonly TimePoint[] }] : (series as readonly TimeSeries[]);
  for (const s of list) {
    const bad = s.points.find((p) => !Number.isFinite(p.minutes) || p.minutes < 0);
    if (bad) throw new Error(`series '${s.name}' has a point at ${bad.minutes} minutes; minutes must be >= 0`);
  }
  return linesFigure(
    list.map((s) => ({ name: s.name, x: s.points.map((p) => p.minutes), y: s.points.map((p) => p.wholeAccuracy) })),
    opts,
    { x: 'training time (minutes)', y: 'whole-image accuracy', yMin: opts.yMin, yMax: 1 },
  );
}

/**
 * One lines+markers trace per named series against an x axis from 0 and a percentage y axis from
 * `yMin` (0 unless given; tenths of a percent shown when above 0) to `yMax` (the shared body of
 * the accuracy-over-time and dead-fraction figures).
 */
function linesFigure(
  lines: readonly { name: string; x: number[]; y: number[] }[],
  opts: { title: string; height: number },
  axes: { x: string; y: string; yMin?: number; yMax: number },
): PlotlyFigure {
  const yMin = axes.yMin ?? 0;
  return {
    data: lines.map((line) => ({ type: 'scatter', mode: 'lines+markers', name: line.name, x: line.x, y: line.y })),
    layout: {
      title: { text: opts.title },
      height: opts.height,
      xaxis: { title: { text: axes.x }, rangemode: 'tozero' },
      yaxis: { title: { text: axes.y }, range: [yMin, axes.yMax], tickformat: yMin > 0 ? '.1%' : '.0%' },
    },
  };
}

/**
 * A run's history as accuracy-over-time points: the validation whole-image accuracy at the end of
 * each epoch against the cumulative minutes spent so far.
 */
export function historyTimePoints(history: readonly EpochPoint[]): TimePoint[] {
  checkHistory(history);
  let seconds = 0;
  return history.map((h) => {
    if (h.seconds === undefined || h.valWholeAccuracy === undefined) {
      throw new Error(`epoch ${h.epoch} lacks seconds or valWholeAccuracy; pass the history of a run.json`);
    }
    seconds += h.seconds;
    return { minutes: seconds / 60, wholeAccuracy: h.valWholeAccuracy };
  });
}

export interface CharacterFrequencyFigureOptions {
  /** Figure title. @default 'Character frequencies' */
  title?: string;
  /** Figure height in pixels. @default 320 */
  height?: number;
}

export const DEFAULT_CHARACTER_FREQUENCY_FIGURE_OPTIONS: Required<CharacterFrequencyFigureOptions> = {
  title: 'Character frequencies',
  height: 320,
};

/** How often each character occurs (rows of `characterFrequencies`), against the uniform expectation. */
export function characterFrequencyFigure(rows: ReadonlyArray<{ char: string; count: number }>, options: CharacterFrequencyFigureOptions = {}): PlotlyFigure {
  const { title, height } = { ...DEFAULT_CHARACTER_FREQUENCY_FIGURE_OPTIONS, ...options };
  const total = rows.reduce((n, r) => n + r.count, 0);
  const expected = rows.length ? total / rows.length : 0;
  const chars = rows.map((r) => r.char);
  return {
    data: [
      { type: 'bar', name: 'count', x: chars, y: rows.map((r) => r.count), marker: { color: TRAIN_COLOR } },
      {
        type: 'scatter',
        mode: 'lines',
        name: 'uniform expectation',
        x: chars,
        y: chars.map(() => expected),
        line: { color: VALIDATION_COLOR, dash: 'dash' },
      },
    ],
    layout: {
      title: { text: title },
      height,
      xaxis: { title: { text: 'character' }, type: 'category' },
      yaxis: { title: { text: 'count' }, rangemode: 'tozero' },
      bargap: 0.15,
    },
  };
}

export interface ViewAccuracyFigureOptions {
  /** Figure title. @default 'Accuracy when the text moves' */
  title?: string;
  /** Figure height in pixels. @default 340 */
  height?: number;
}

export const DEFAULT_VIEW_ACCURACY_FIGURE_OPTIONS: Required<ViewAccuracyFigureOptions> = {
  title: 'Accuracy when the text moves',
  height: 340,
};

/** Whole-image and character accuracy per view of the same images (rows of `evaluateViews`), in percent. */
export function viewAccuracyFigure(
  rows: ReadonlyArray<{ view: string; wholeAccuracy: number; characterAccuracy: number }>,
  options: ViewAccuracyFigureOptions = {},
): PlotlyFigure {
  const { title, height } = { ...DEFAULT_VIEW_ACCURACY_FIGURE_OPTIONS, ...options };
  const views = rows.map((r) => r.view);
  return {
    data: [
      { type: 'bar', name: 'whole image', x: views, y: rows.map((r) => 100 * r.wholeAccuracy), marker: { color: TRAIN_COLOR } },
      { type: 'bar', name: 'character', x: views, y: rows.map((r) => 100 * r.characterAccuracy), marker: { color: VALIDATION_COLOR } },
    ],
    layout: {
      title: { text: title },
      height,
      barmode: 'group',
      xaxis: { title: { text: 'view of the test images' }, type: 'category' },
      yaxis: { title: { text: 'accuracy (%)' }, range: [0, 100] },
    },
  };
}

/**
 * A run's accuracy over training time: its measured curve (`run.json` "curve", written when
 * training with `curveEveryMinutes`), else one point per epoch from its history.
 */
export function runTimePoints(record: { curve?: readonly TimePoint[]; history: readonly EpochPoint[] }): TimePoint[] {
  if (record.curve && record.curve.length > 0) return record.curve.map((p) => ({ minutes: p.minutes, wholeAccuracy: p.wholeAccuracy }));
  return historyTimePoints(record.history);
}

/** A named curve of the last convolution's dead fraction over training steps (`run.json`'s `plateau.probes`). */
export interface DeadFractionSeries {
  name: string;
  probes: ReadonlyArray<{ step: number; deadFraction: number }>;
}

export interface DeadFractionFigureOptions {
  /** Figure title. @default 'Dead units of the last convolution' */
  title?: string;
  /** Figure height in pixels. @default 380 */
  height?: number;
}

export const DEFAULT_DEAD_FRACTION_FIGURE_OPTIONS: Required<DeadFractionFigureOptions> = {
  title: 'Dead units of the last convolution',
  height: 380,
};

/**
 * The fraction of the last convolution's ReLU units that fire on none of the probe images, against
 * the training step, one line per run: a stuck run climbs to 100% and stays there (a dead unit gets
 * no gradient), an escaped one keeps units alive.
 */
export function deadFractionFigure(series: readonly DeadFractionSeries[], options: DeadFractionFigureOptions = {}): PlotlyFigure {
  const opts = { ...DEFAULT_DEAD_FRACTION_FIGURE_OPTIONS, ...options };
  for (const s of series) {
    const bad = s.probes.find((p) => !(p.deadFraction >= 0 && p.deadFraction <= 1) || !(p.step >= 0));
    if (bad) throw new Error(`run '${s.name}' has a probe at step ${bad.step} with dead fraction ${bad.deadFraction}; steps must be >= 0 and fractions within 0..1`);
  }
  return linesFigure(
    series.map((s) => ({ name: s.name, x: s.probes.map((p) => p.step), y: s.probes.map((p) => p.deadFraction) })),
    opts,
    // 1.02: a line at 100% (a stuck run) stays visible above the top edge
    { x: 'training step (batch)', y: 'units dead on every probe image', yMax: 1.02 },
  );
}

/** A cell of an evaluation matrix, as `captcha-lab matrix` saves it (src/eval/matrix.ts). */
export interface MatrixFigureCell {
  version: string;
  width: number;
  height: number;
  wholeAccuracy: number;
  errors: number;
  zeroOErrors: number;
}

/**
 * The cells of a matrix laid out as a heatmap's rows (versions, in order of appearance) and
 * columns (sizes): `rows[v][s]` is the cell, or undefined where it was not evaluated.
 */
function versionSizeGrid<C extends MatrixFigureCell>(cells: readonly C[]): { versions: string[]; sizes: string[]; rows: Array<Array<C | undefined>> } {
  if (cells.length === 0) throw new Error('the matrix has no cells; run captcha-lab matrix first');
  const versions = [...new Set(cells.map((c) => c.version))];
  const sizes = [...new Set(cells.map((c) => `${c.width}x${c.height}`))];
  const rows = versions.map((v) => sizes.map((s) => cells.find((c) => c.version === v && `${c.width}x${c.height}` === s)));
  return { versions, sizes, rows };
}

/** The layout of a version x size heatmap. */
function versionSizeLayout(title: string, versions: readonly string[], xTitle: string): PlotlyFigure['layout'] {
  return {
    title: { text: title },
    height: 120 + 60 * versions.length,
    xaxis: { title: { text: xTitle }, type: 'category' },
    yaxis: { title: { text: 'lepture version' }, type: 'category', autorange: 'reversed' },
  };
}

/**
 * The evaluation matrix as a heatmap: a row per lepture version, a column per image size, the
 * colour and label the whole-image accuracy; hover shows the errors and how many are only 0/O.
 */
export function matrixHeatmapFigure(cells: readonly MatrixFigureCell[], title = 'Whole-image accuracy by lepture version and image size'): PlotlyFigure {
  const { versions, sizes, rows } = versionSizeGrid(cells);
  const z = rows.map((row) => row.map((c) => (c ? 100 * c.wholeAccuracy : null)));
  const text = rows.map((row) => row.map((c) => (c ? `${(100 * c.wholeAccuracy).toFixed(2)}%` : '')));
  const hover = rows.map((row) => row.map((c) => (c ? `${c.errors} errors, ${c.zeroOErrors} only 0/O` : 'not evaluated')));
  return {
    data: [
      {
        type: 'heatmap',
        x: sizes,
        y: versions.map((v) => `v${v}`),
        z,
        text,
        texttemplate: '%{text}',
        customdata: hover,
        hovertemplate: '%{y} at %{x}: %{text}<br>%{customdata}<extra></extra>',
        colorscale: 'RdYlGn',
        zmin: Math.min(95, ...z.flat().filter((x): x is number => x !== null)),
        zmax: 100,
        colorbar: { title: { text: 'whole %' } },
      },
    ],
    layout: versionSizeLayout(title, versions, 'image size (fitted to the model input)'),
  };
}

/** A matrix cell with its most frequent confusions, as the report keeps them (`confusionPairs`). */
export interface LeanFigureCell extends MatrixFigureCell {
  confusionPairs: ReadonlyArray<{ predicted: string; actual: string; count: number }>;
}

/**
 * Which way the 0/O errors lean in each cell of a matrix: (O read as 0 - 0 read as O) / both,
 * from -1 (every such error reads 0 as O) to +1 (every one reads O as 0); the label gives both
 * counts. A report keeps each cell's 5 most frequent confusions, so a direction not among them
 * counts as 0 (the label then says so). A lean that changes sign between versions at one size is
 * why a correction by image size alone cannot remove it (docs/pretrained.md).
 */
export function zeroOLeanFigure(cells: readonly LeanFigureCell[], title = 'Which way the 0/O errors lean'): PlotlyFigure {
  const { versions, sizes, rows } = versionSizeGrid(cells);
  const count = (c: LeanFigureCell, predicted: string, actual: string) => c.confusionPairs.find((p) => p.predicted === predicted && p.actual === actual)?.count;
  const lean = (c: LeanFigureCell | undefined): { z: number | null; text: string } => {
    if (!c) return { z: null, text: '' };
    const [oAsZero, zeroAsO] = [count(c, '0', 'O'), count(c, 'O', '0')];
    const total = (oAsZero ?? 0) + (zeroAsO ?? 0);
    const shown = (n: number | undefined) => (n === undefined ? '≤5th' : String(n));
    return { z: total === 0 ? 0 : ((oAsZero ?? 0) - (zeroAsO ?? 0)) / total, text: `O→0 ${shown(oAsZero)}<br>0→O ${shown(zeroAsO)}` };
  };
  const grid = rows.map((row) => row.map(lean));
  return {
    data: [
      {
        type: 'heatmap',
        x: sizes,
        y: versions.map((v) => `v${v}`),
        z: grid.map((row) => row.map((g) => g.z)),
        text: grid.map((row) => row.map((g) => g.text)),
        texttemplate: '%{text}',
        hovertemplate: '%{y} at %{x}: lean %{z:.2f}<extra></extra>',
        colorscale: 'RdBu',
        zmin: -1,
        zmax: 1,
        colorbar: { title: { text: 'O→0 (+) vs 0→O (−)' } },
      },
    ],
    layout: versionSizeLayout(title, versions, 'image size'),
  };
}
