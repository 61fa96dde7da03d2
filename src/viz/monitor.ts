/**
 * Live training progress in a notebook: the trainer's callbacks update one progress line per
 * batch (throttled) and redraw the loss and accuracy curves after every epoch.
 */
import type { BatchProgress, EpochMetrics, TrainCallbacks } from '../train/trainer';
import type { LiveOutput, NotebookDisplay } from './display';
import { trainingCurvesFigure, type BatchPoint, type EpochPoint } from './figures';

export interface TrainingMonitorOptions {
  /** Least time between two progress-line updates; epoch ends always update. @default 500 */
  minIntervalMs?: number;
  /**
   * Least time between two redraws of the curves during an epoch (each sends the whole figure);
   * `Infinity` redraws only after each epoch, which always happens. @default 10000
   */
  chartIntervalMs?: number;
}

export const DEFAULT_TRAINING_MONITOR_OPTIONS: Required<TrainingMonitorOptions> = {
  minIntervalMs: 500,
  chartIntervalMs: 10_000,
};

export interface TrainingMonitor {
  /** Pass these to `train(config, { callbacks })`. */
  callbacks: TrainCallbacks;
  /** Every batch seen so far (for a finer training curve afterwards). */
  batches: BatchPoint[];
  /** Every finished epoch. */
  history: EpochMetrics[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** `epoch 2/3  batch 14/29  loss 3.1234  head acc 5.0% 4.1% ...  31.2 img/s` */
export function formatBatchProgress(p: BatchProgress, epochs: number): string {
  return [
    `epoch ${p.epoch + 1}/${epochs}`,
    `batch ${p.batch}/${p.batchesPerEpoch}`,
    `loss ${p.loss.toFixed(4)}`,
    `head acc ${p.headAccuracy.map(pct).join(' ')}`,
    `${p.imagesPerSecond.toFixed(1)} img/s`,
  ].join('  ');
}

/** `epoch 1: loss 3.5 / val 3.4, validation: characters 4.1%, whole images 0.0% (61 s)` */
export function formatEpochSummary(m: EpochMetrics): string {
  return (
    `epoch ${m.epoch}: loss ${m.loss.toFixed(4)} / val ${m.valLoss.toFixed(4)}, validation accuracy: ` +
    `characters ${pct(m.valCharacterAccuracy)}, whole images ${pct(m.valWholeAccuracy)} ` +
    `(${m.seconds.toFixed(0)} s, ${m.imagesPerSecond.toFixed(1)} img/s)`
  );
}

/**
 * Callbacks that show training as it happens: a progress line and, below it, the curves.
 * `const monitor = createTrainingMonitor(show); await train(config, { callbacks: monitor.callbacks });`
 */
export function createTrainingMonitor(display: NotebookDisplay, options: TrainingMonitorOptions = {}): TrainingMonitor {
  const opts = { ...DEFAULT_TRAINING_MONITOR_OPTIONS, ...options };
  let line: LiveOutput | undefined;
  let chart: LiveOutput | undefined;
  let epochs = 0;
  let lastUpdate = -Infinity;
  let lastChart = -Infinity;
  // The trainer's log lines and one summary per finished epoch; the current batch goes below.
  const lines: string[] = [];
  const monitor: TrainingMonitor = { batches: [], history: [], callbacks: {} };
  const drawChart = () => {
    lastChart = performance.now();
    chart?.plot(trainingCurvesFigure(monitor.history as EpochPoint[], { batches: monitor.batches }));
  };
  const showLines = (current?: string) => line?.text([...lines, ...(current ? [current] : [])].join('\n'));
  monitor.callbacks = {
    onStart(info) {
      epochs = info.config.epochs;
      // Outputs are created here, not earlier, so they sit in the cell that trains.
      line = display.live();
      chart = display.live();
      if (info.resumedFrom) lines.push(`resuming at ${info.resumedFrom}`);
      showLines(`${info.batchesPerEpoch} batches per epoch: starting`);
      lastChart = performance.now();
    },
    onBatch(progress) {
      monitor.batches.push({ ...progress, headAccuracy: [...progress.headAccuracy] });
      const now = performance.now();
      const last = progress.batch === progress.batchesPerEpoch;
      if (now - lastUpdate >= opts.minIntervalMs || last) {
        lastUpdate = now;
        showLines(formatBatchProgress(progress, epochs) + (last ? '  (validating...)' : ''));
      }
      if (!last && now - lastChart >= opts.chartIntervalMs) drawChart();
    },
    onEpochEnd(metrics) {
      monitor.history.push(metrics);
      lines.push(formatEpochSummary(metrics));
      showLines();
      drawChart();
    },
    onLog(message) {
      lines.push(message);
      showLines();
    },
  };
  return monitor;
}
