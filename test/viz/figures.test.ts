import { strict as assert } from 'assert';
import {
  accuracyOverTimeFigure,
  deadFractionFigure,
  matrixHeatmapFigure,
  zeroOLeanFigure,
  characterFrequencyFigure,
  viewAccuracyFigure,
  confusionHeatmapFigure,
  headAccuracyFigure,
  historyTimePoints,
  runTimePoints,
  lossFigure,
  trainingCurvesFigure,
  type EpochPoint,
} from '../../src/viz';

const history: EpochPoint[] = [
  { epoch: 1, loss: 3.5, headAccuracy: [0.1, 0.2], valLoss: 3.2, valHeadAccuracy: [0.15, 0.25], valWholeAccuracy: 0.01, seconds: 60 },
  { epoch: 2, loss: 2.0, headAccuracy: [0.5, 0.6], valLoss: 2.4, valHeadAccuracy: [0.45, 0.55], valWholeAccuracy: 0.2, seconds: 30 },
];

describe('training curve figures', () => {
  it('draws train and validation loss against epochs', () => {
    const fig = lossFigure(history);
    assert.deepEqual(fig.data.map((t) => t.name), ['train loss', 'validation loss']);
    assert.deepEqual(fig.data[0].x, [1, 2]);
    assert.deepEqual(fig.data[0].y, [3.5, 2.0]);
    assert.deepEqual(fig.data[1].y, [3.2, 2.4]);
    assert.equal((fig.layout.xaxis as { title: { text: string } }).title.text, 'epoch');
  });

  it('draws one train and one validation curve per head, in the same colour', () => {
    const fig = headAccuracyFigure(history);
    assert.deepEqual(fig.data.map((t) => t.name), ['head 1 train', 'head 1 validation', 'head 2 train', 'head 2 validation']);
    assert.deepEqual(fig.data[3].y, [0.25, 0.55]);
    const color = (i: number) => (fig.data[i].line as { color: string }).color;
    assert.equal(color(0), color(1));
    assert.notEqual(color(0), color(2));
  });

  it('follows per-batch points for the training curves when given, at fractional epochs', () => {
    const batches = [
      { epoch: 0, batch: 1, batchesPerEpoch: 2, loss: 3.6, headAccuracy: [0, 0.1] },
      { epoch: 0, batch: 2, batchesPerEpoch: 2, loss: 3.5, headAccuracy: [0.1, 0.2] },
      { epoch: 1, batch: 1, batchesPerEpoch: 2, loss: 2.2, headAccuracy: [0.4, 0.5] },
    ];
    const fig = trainingCurvesFigure(history, { batches });
    const train = fig.data.find((t) => t.name === 'train loss');
    assert.deepEqual(train?.x, [0.5, 1, 1.5]);
    const head2 = fig.data.find((t) => t.name === 'head 2 train');
    assert.deepEqual(head2?.y, [0.1, 0.2, 0.5]);
    assert.equal(head2?.xaxis, 'x2');
    assert.equal(fig.data.find((t) => t.name === 'validation loss')?.xaxis, 'x');
  });

  it('draws an empty history as a figure without points (before the first epoch)', () => {
    const fig = trainingCurvesFigure([]);
    assert.deepEqual(fig.data.map((t) => t.x), [[], []]);
  });

  it('refuses a history that is not an array', () => {
    assert.throws(() => lossFigure({} as unknown as EpochPoint[]), /history must be an array of epochs/);
  });
});

describe('confusionHeatmapFigure', () => {
  const alphabet = '0OA';
  const matrix = [
    [5, 2, 0],
    [3, 7, 0],
    [0, 1, 9],
  ];

  it('puts true classes on rows and predicted on columns, as categories', () => {
    const fig = confusionHeatmapFigure(matrix, alphabet, { hideDiagonal: false });
    const [trace] = fig.data;
    assert.equal(trace.type, 'heatmap');
    assert.deepEqual(trace.x, ['0', 'O', 'A']);
    assert.deepEqual(trace.z, matrix);
    assert.equal((fig.layout.xaxis as { type: string }).type, 'category');
    assert.equal((fig.layout.yaxis as { autorange: string }).autorange, 'reversed');
  });

  it('blanks the diagonal by default so confusions set the colour scale', () => {
    const fig = confusionHeatmapFigure(matrix, alphabet);
    assert.deepEqual(fig.data[0].z, [
      [null, 2, 0],
      [3, null, 0],
      [0, 1, null],
    ]);
  });

  it('refuses a matrix that does not match the alphabet', () => {
    assert.throws(() => confusionHeatmapFigure([[1]], alphabet), /must be 3x3 for the 3-character alphabet '0OA', got 1x1/);
  });
});

describe('accuracyOverTimeFigure', () => {
  it('draws one line per series against minutes', () => {
    const fig = accuracyOverTimeFigure([
      { name: 'native', points: [{ minutes: 1, wholeAccuracy: 0.1 }, { minutes: 2, wholeAccuracy: 0.4 }] },
      { name: 'wasm', points: [{ minutes: 5, wholeAccuracy: 0.05 }] },
    ]);
    assert.deepEqual(fig.data.map((t) => t.name), ['native', 'wasm']);
    assert.deepEqual(fig.data[0].x, [1, 2]);
    assert.deepEqual(fig.data[0].y, [0.1, 0.4]);
  });

  it('takes a plain list of points as one series', () => {
    const fig = accuracyOverTimeFigure([{ minutes: 0.5, wholeAccuracy: 0.3 }]);
    assert.equal(fig.data.length, 1);
    assert.deepEqual(fig.data[0].y, [0.3]);
  });

  it('refuses negative minutes', () => {
    assert.throws(() => accuracyOverTimeFigure([{ minutes: -1, wholeAccuracy: 0 }]), /-1 minutes; minutes must be >= 0/);
  });

  it("prefers a run's measured curve and falls back to its epochs", () => {
    const curve = [{ minutes: 0.5, wholeAccuracy: 0.05, images: 100 }];
    assert.deepEqual(runTimePoints({ curve, history }), [{ minutes: 0.5, wholeAccuracy: 0.05 }]);
    assert.deepEqual(runTimePoints({ curve: [], history }), historyTimePoints(history));
  });

  it('turns a history into cumulative minutes', () => {
    assert.deepEqual(historyTimePoints(history), [
      { minutes: 1, wholeAccuracy: 0.01 },
      { minutes: 1.5, wholeAccuracy: 0.2 },
    ]);
  });
});

describe('characterFrequencyFigure', () => {
  it('draws a bar per character and the uniform expectation', () => {
    const fig = characterFrequencyFigure([{ char: 'A', count: 3 }, { char: 'B', count: 1 }]);
    assert.deepEqual(fig.data.map((t) => t.type), ['bar', 'scatter']);
    assert.deepEqual(fig.data[0].x, ['A', 'B']);
    assert.deepEqual(fig.data[1].y, [2, 2]);
  });
});

describe('viewAccuracyFigure', () => {
  it('draws whole-image and character accuracy per view as grouped bars in percent', () => {
    const fig = viewAccuracyFigure([
      { view: 'as generated', wholeAccuracy: 0.98, characterAccuracy: 0.995 },
      { view: '1 px up', wholeAccuracy: 0.5, characterAccuracy: 0.8 },
    ]);
    assert.deepEqual(fig.data.map((t) => t.name), ['whole image', 'character']);
    assert.deepEqual(fig.data[0].x, ['as generated', '1 px up']);
    assert.deepEqual(fig.data[0].y, [98, 50]);
    assert.deepEqual(fig.data[1].y, [99.5, 80]);
    assert.equal(fig.layout.barmode, 'group');
  });
});

describe('deadFractionFigure', () => {
  it('draws one line per run, dead fraction against step, on a 0-100% axis', () => {
    const fig = deadFractionFigure([
      { name: 'stuck', probes: [{ step: 0, deadFraction: 0.3 }, { step: 20, deadFraction: 1 }] },
      { name: 'escaped', probes: [{ step: 0, deadFraction: 0.3 }] },
    ]);
    assert.deepEqual(fig.data.map((t) => [t.name, t.x, t.y]), [['stuck', [0, 20], [0.3, 1]], ['escaped', [0], [0.3]]]);
    assert.equal((fig.layout.yaxis as { tickformat: string }).tickformat, '.0%');
  });

  it('refuses a fraction outside 0..1, naming the run and step', () => {
    assert.throws(() => deadFractionFigure([{ name: 'r', probes: [{ step: 40, deadFraction: 1.5 }] }]), /run 'r' has a probe at step 40 with dead fraction 1.5/);
  });
});

describe('matrixHeatmapFigure', () => {
  it('lays out a row per version and a column per size, labelled with whole-image accuracy', () => {
    const cell = (version: string, width: number, height: number, wholeAccuracy: number) => ({ version, width, height, wholeAccuracy, errors: 3, zeroOErrors: 2 });
    const fig = matrixHeatmapFigure([cell('0.7.0', 160, 60, 0.991), cell('0.7.0', 140, 80, 0.98), cell('0.2.2', 160, 60, 0.9)]);
    const trace = fig.data[0] as unknown as { x: string[]; y: string[]; z: Array<Array<number | null>>; text: string[][]; zmin: number; customdata: string[][] };
    assert.deepEqual(trace.x, ['160x60', '140x80']);
    assert.deepEqual(trace.y, ['v0.7.0', 'v0.2.2']);
    assert.deepEqual(trace.z.map((r) => r.map((v) => (v === null ? null : Math.round(v * 10) / 10))), [[99.1, 98], [90, null]]);
    assert.deepEqual(trace.text, [['99.10%', '98.00%'], ['90.00%', '']]);
    assert.equal(trace.customdata[1][1], 'not evaluated');
    assert.equal(trace.zmin, 90);
    assert.throws(() => matrixHeatmapFigure([]), /the matrix has no cells; run captcha-lab matrix first/);
  });
});

describe('zeroOLeanFigure', () => {
  it('colours each cell by which way its 0/O errors go, and says when a direction was not kept', () => {
    const pairs = (oAsZero: number | null, zeroAsO: number | null) =>
      [
        ...(oAsZero === null ? [] : [{ predicted: '0', actual: 'O', count: oAsZero }]),
        ...(zeroAsO === null ? [] : [{ predicted: 'O', actual: '0', count: zeroAsO }]),
        { predicted: 'B', actual: '8', count: 9 },
      ];
    const cell = (version: string, width: number, height: number, oAsZero: number | null, zeroAsO: number | null) =>
      ({ version, width, height, wholeAccuracy: 0.97, errors: 50, zeroOErrors: 40, confusionPairs: pairs(oAsZero, zeroAsO) });
    const fig = zeroOLeanFigure([cell('0.7.1', 160, 60, 30, 10), cell('0.7.1', 170, 80, 5, 15), cell('0.2.2', 160, 60, null, 8), cell('0.2.2', 170, 80, 0, 0)]);
    const trace = fig.data[0] as unknown as { z: number[][]; text: string[][]; zmin: number; zmax: number };
    assert.deepEqual(trace.z, [[0.5, -0.5], [-1, 0]]);
    assert.equal(trace.text[0][0], 'O→0 30<br>0→O 10');
    assert.equal(trace.text[1][0], 'O→0 ≤5th<br>0→O 8');
    assert.deepEqual([trace.zmin, trace.zmax], [-1, 1]);
    assert.throws(() => zeroOLeanFigure([]), /no cells/);
  });
});

describe('accuracyOverTimeFigure yMin', () => {
  it('starts the accuracy axis at yMin, with tenths of a percent, and at 0 by default', () => {
    const points = [{ minutes: 0, wholeAccuracy: 0.95 }, { minutes: 5, wholeAccuracy: 0.97 }];
    const axis = (fig: { layout: Record<string, unknown> }) => fig.layout.yaxis as { range: number[]; tickformat: string };
    assert.deepEqual(axis(accuracyOverTimeFigure(points, { yMin: 0.94 })), { title: { text: 'whole-image accuracy' }, range: [0.94, 1], tickformat: '.1%' });
    assert.deepEqual(axis(accuracyOverTimeFigure(points)).range, [0, 1]);
    assert.equal(axis(accuracyOverTimeFigure(points)).tickformat, '.0%');
  });
});
