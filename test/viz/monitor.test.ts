import { strict as assert } from 'assert';
import { createNotebookDisplay, createTrainingMonitor, formatBatchProgress, PLOTLY_MIME, type DisplaySink, type MimeBundle, type PlotlyFigure } from '../../src/viz';
import { DEFAULT_TRAIN_CONFIG, type EpochMetrics } from '../../src/train';

const epoch = (n: number): EpochMetrics => ({
  epoch: n, loss: 3 - n, headAccuracy: [0.1 * n], valLoss: 3.1 - n, valCharacterAccuracy: 0.1 * n, valWholeAccuracy: 0.01 * n,
  valHeadAccuracy: [0.1 * n], learningRate: 0.001, images: 10, imagesPerSecond: 5, trainSeconds: 2, dataWaitSeconds: 0, seconds: 2.5,
});

describe('createTrainingMonitor', () => {
  it('formats a batch as one progress line', () => {
    const line = formatBatchProgress({ epoch: 1, batch: 14, batchesPerEpoch: 29, loss: 3.12345, headAccuracy: [0.05, 0.041], imagesPerSecond: 31.25 }, 3);
    assert.equal(line, 'epoch 2/3  batch 14/29  loss 3.1235  head acc 5.0% 4.1%  31.3 img/s');
  });

  it('keeps one progress line and one chart in place, redrawing the chart after each epoch', () => {
    const calls: Array<{ bundle: MimeBundle; displayId?: string; update: boolean }> = [];
    const sink: DisplaySink = (bundle, target) => calls.push({ bundle, ...target });
    const monitor = createTrainingMonitor(createNotebookDisplay({ sink }), { minIntervalMs: 0, chartIntervalMs: Infinity });
    const cb = monitor.callbacks;
    cb.onStart?.({ config: { ...DEFAULT_TRAIN_CONFIG, epochs: 2 }, data: 'toy', batchesPerEpoch: 2, resumedFrom: null });
    cb.onLog?.('training toy-net on toy');
    for (const e of [0, 1]) {
      for (const b of [1, 2]) cb.onBatch?.({ epoch: e, batch: b, batchesPerEpoch: 2, loss: 3 - e, headAccuracy: [0.1], imagesPerSecond: 5 });
      cb.onEpochEnd?.(epoch(e + 1));
    }
    const ids = new Set(calls.map((c) => c.displayId));
    assert.equal(ids.size, 2, 'one progress line and one chart');
    const charts = calls.filter((c) => PLOTLY_MIME in c.bundle);
    assert.equal(charts.length, 2);
    const last = charts[1].bundle[PLOTLY_MIME] as PlotlyFigure;
    assert.deepEqual(last.data.find((t) => t.name === 'validation loss')?.y, [2.1, 1.1]);
    assert.equal(last.data.find((t) => t.name === 'train loss')?.x?.length, 4);
    assert.match(calls[calls.length - 2].bundle['text/plain'] as string, /^training toy-net on toy\nepoch 1: .*\nepoch 2: loss 1\.0000 \/ val 1\.1000.*$/);
    assert.equal(monitor.history.length, 2);
    assert.equal(monitor.batches.length, 4);
  });
});

describe('createTrainingMonitor redraws', () => {
  it('redraws the curves during an epoch when the chart interval allows', () => {
    const charts: MimeBundle[] = [];
    const sink: DisplaySink = (bundle) => (PLOTLY_MIME in bundle ? charts.push(bundle) : undefined);
    const cb = createTrainingMonitor(createNotebookDisplay({ sink }), { minIntervalMs: 0, chartIntervalMs: 0 }).callbacks;
    cb.onStart?.({ config: { ...DEFAULT_TRAIN_CONFIG, epochs: 1 }, data: 'toy', batchesPerEpoch: 3, resumedFrom: null });
    for (const b of [1, 2, 3]) cb.onBatch?.({ epoch: 0, batch: b, batchesPerEpoch: 3, loss: 3, headAccuracy: [0.1], imagesPerSecond: 5 });
    assert.equal(charts.length, 2, 'after batches 1 and 2; the last batch waits for the epoch end');
    cb.onEpochEnd?.(epoch(1));
    assert.equal(charts.length, 3);
  });
});
