import { strict as assert } from 'assert';
import { accuracyRows, characterFrequencies, confusionPairRows, datasetStatistics, matrixComparisonRows, epochRows, modelRegistryRows, settingsRows, tableHtml, tableText } from '../../src/viz';

describe('dataset tables', () => {
  it('counts characters overall and per position, in alphabet order', () => {
    const rows = characterFrequencies(['AB', 'BA', 'BB'], 'ABC');
    assert.deepEqual(rows, [
      { char: 'A', count: 2, share: 2 / 6, pos1: 1, pos2: 1 },
      { char: 'B', count: 4, share: 4 / 6, pos1: 2, pos2: 2 },
      { char: 'C', count: 0, share: 0, pos1: 0, pos2: 0 },
    ]);
  });

  it('names a character outside the alphabet', () => {
    assert.throws(() => characterFrequencies(['AZ'], 'AB'), /text 'AZ' \(#0\) has 'Z', which is not in the alphabet 'AB'/);
  });

  it('summarises count, distinct texts and the extremes of the character distribution', () => {
    const rows = datasetStatistics(['AB', 'AB', 'BA', 'AA'], 'ABC', { imageSize: { width: 170, height: 80 } });
    const get = (s: string) => rows.find((r) => r.statistic === s)?.value;
    assert.equal(get('images'), 4);
    assert.equal(get('distinct texts'), 3);
    assert.equal(get('characters per text'), 2);
    assert.equal(get('least frequent character'), 'C (0)');
    assert.equal(get('most frequent character'), 'A (5)');
    assert.equal(get('image size'), '170x80');
  });
});

describe('evaluation tables', () => {
  it('lists whole-image, character and per-position accuracy as percentages', () => {
    const rows = accuracyRows({ count: 10, wholeAccuracy: 0.5, characterAccuracy: 0.875, perPositionAccuracy: [1, 0.75] });
    assert.deepEqual(rows.map((r) => r.accuracy), ['50.00%', '87.50%', '100.00%', '75.00%']);
    assert.match(rows[0].metric, /10 images/);
  });

  it('gives each confusion pair its share of all errors and the original notation', () => {
    const rows = confusionPairRows({ confusionPairs: [{ predicted: '0', actual: 'O', count: 3 }, { predicted: '8', actual: 'B', count: 1 }] }, 1);
    assert.deepEqual(rows, [{ actual: 'O', predicted: '0', count: 3, share: '75.00%', original: '{0,O}->3' }]);
  });
});

describe('tableHtml', () => {
  it('renders row objects with a header and escapes cell text', () => {
    const html = tableHtml([{ a: '<x>', b: 1.23456 }]);
    assert.match(html, /<th>a<\/th><th>b<\/th>/);
    assert.match(html, /&lt;x&gt;/);
    assert.match(html, /<td style="text-align:right">1\.2346<\/td>/);
  });

  it('renders a DataFrame-like table (columns + values) and says how many rows it left out', () => {
    const html = tableHtml({ columns: ['n'], values: [[1], [2], [3]] }, { maxRows: 2 });
    assert.equal((html.match(/<tr>/g) ?? []).length, 3);
    assert.match(html, /1 more rows/);
  });

  it('renders the same table as aligned text', () => {
    assert.equal(tableText([{ char: 'A', count: 10 }, { char: 'BB', count: 2 }]), 'char  count\nA     10\nBB    2');
  });
});

describe('tables of danfojs DataFrames', () => {
  it('renders a danfojs DataFrame with its columns, rows and (optionally) index', async () => {
    const dfd = await import('danfojs-node');
    const df = new dfd.DataFrame([{ char: 'A', count: 3 }, { char: 'B', count: 1 }]).sortValues('count', { ascending: true });
    const html = tableHtml(df as unknown as Parameters<typeof tableHtml>[0], { showIndex: true });
    assert.match(html, /<th>char<\/th><th>count<\/th>/);
    assert.match(html, /<tr><th>1<\/th><td style="text-align:left">B<\/td><td style="text-align:right">1<\/td><\/tr>/);
  });
});

describe('run tables', () => {
  it('lists architectures with their input as WxHxC', () => {
    const [row] = modelRegistryRows([{ name: 'seed', head: 'per-position', description: 'd', defaultInput: { height: 80, width: 170, channels: 3 } }]);
    assert.deepEqual(row, { name: 'seed', head: 'per-position', input: '170x80x3', description: 'd' });
  });

  it('lists settings with objects as JSON and unset values as defaults', () => {
    assert.deepEqual(settingsRows({ epochs: 2, height: undefined, input: { h: 1 } }), [
      { setting: 'epochs', value: '2' },
      { setting: 'height', value: '(default)' },
      { setting: 'input', value: '{"h":1}' },
    ]);
  });

  it('turns a history into one row per epoch with percentages', () => {
    const [row] = epochRows([{ epoch: 1, loss: 3, valLoss: 2.5, valCharacterAccuracy: 0.25, valWholeAccuracy: 0.015, imagesPerSecond: 31.26, seconds: 60.04 }]);
    assert.deepEqual(row, { epoch: 1, loss: 3, valLoss: 2.5, valCharacterAccuracy: '25.00%', valWholeAccuracy: '1.50%', imagesPerSecond: 31.3, seconds: 60 });
  });
});

describe('matrixComparisonRows', () => {
  it('puts the same cells of two matrices side by side and leaves out cells only one has', () => {
    const cell = (version: string, width: number, height: number, wholeAccuracy: number, errors: number) => ({ version, width, height, wholeAccuracy, errors });
    const before = [cell('0.7.1', 160, 60, 0.975, 25), cell('0.2.2', 170, 80, 0.95, 50), cell('0.7.0', 140, 80, 0.96, 40)];
    const after = [cell('0.2.2', 170, 80, 0.98, 20), cell('0.7.1', 160, 60, 0.99, 10)];
    assert.deepEqual(matrixComparisonRows(before, after), [
      { version: '0.7.1', size: '160x60', before: '97.50%', after: '99.00%', errors: '25 -> 10' },
      { version: '0.2.2', size: '170x80', before: '95.00%', after: '98.00%', errors: '50 -> 20' },
    ]);
  });
});
