import { strict as assert } from 'assert';
import { createCaptchaStream } from '../../src/data';
import { pixelsToTensor } from '../../src/data/tensors';
import { formatMatrixTable, freshBatches, type MatrixCell } from '../../src/eval';
import { misreadKind, onlyZeroOSwaps } from '../../src/eval/matrix';
import { useNativeBackend } from '../helpers';

describe('evaluation matrix', () => {
  before(useNativeBackend);

  it('counts a misread as a 0/O error only when every mistake swaps 0 and O', () => {
    assert.equal(onlyZeroOSwaps('A0BO', 'AOB0'), true);
    assert.equal(onlyZeroOSwaps('A0BC', 'AOBC'), true);
    assert.equal(onlyZeroOSwaps('A0BC', 'AOBD'), false);
    assert.equal(onlyZeroOSwaps('A0BC', 'A0BC'), false);
    assert.equal(onlyZeroOSwaps('A0BC', 'AOB'), false);
    assert.equal(onlyZeroOSwaps('ADBC', 'AOBC'), false);
  });

  it('sorts misreads by what they do to 0 and O', () => {
    assert.equal(misreadKind('A0BC', 'AOBC'), 'lone 0/O');
    assert.equal(misreadKind('A0BO', 'AOB0'), '0/O pair');
    assert.equal(misreadKind('A0BC', 'A0B8'), 'no 0/O');
    assert.equal(misreadKind('ABCD', 'ABCE'), 'no 0/O');
    assert.equal(misreadKind('A0BC', 'ADBC'), 'other', 'a round glyph read as another character');
    assert.equal(misreadKind('ADBC', 'AOBC'), 'other', 'another character read as a round glyph');
    assert.equal(misreadKind('A0BC', 'AOBD'), 'other', 'a swap beside another error');
    assert.equal(misreadKind('A0BC', 'A0B'), 'other', 'a wrong length');
    assert.throws(() => misreadKind('A0BC', 'A0BC'), /read right/);
  });

  it('draws fresh images at the cell size and resizes them to the model input, as predict resizes files', async () => {
    const input = { height: 60, width: 160, channels: 1 as const };
    const batches = freshBatches({ count: 3, seed: 9, input, imageSize: { width: 140, height: 80 }, alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', length: 4, captchaVersion: '0.2.2' });
    const { value } = await batches.next();
    await batches.return(undefined);
    const stream = createCaptchaStream({ batchSize: 128, seed: 'fresh/9', workers: 0, captcha: { width: 140, height: 80, version: '0.2.2' } });
    const plain = await stream.next();
    await stream.close();
    const expected = pixelsToTensor(plain.pixels.subarray(0, 3 * 140 * 80 * 3), 3, 80, 140, input);
    assert.deepEqual(value!.xs.shape, [3, 60, 160, 1]);
    assert.deepEqual(value!.texts, plain.texts.slice(0, 3));
    assert.deepEqual(await value!.xs.data(), await expected.data());
    value!.xs.dispose();
    expected.dispose();
  });

  it('tables whole-image accuracy with errors and 0/O errors, a row per version and a column per size', () => {
    const cell = (version: MatrixCell['version'], width: number, height: number, whole: number, errors: number, zeroO: number): MatrixCell => ({
      version, width, height, count: 1000, seed: 1, wholeAccuracy: whole, characterAccuracy: 1, errors, zeroOErrors: zeroO, confusionPairs: [], seconds: 1,
    });
    const table = formatMatrixTable({ model: 'm', decoding: 'd', cells: [cell('0.7.0', 160, 60, 0.995, 5, 4), cell('0.7.0', 140, 80, 0.98, 20, 3), cell('0.2.2', 160, 60, 1, 0, 0)] });
    assert.equal(
      table,
      ['| version | 160x60 | 140x80 |', '|---|---|---|', '| 0.7.0 | 99.50% (5; 0/O 4) | 98.00% (20; 0/O 3) |', '| 0.2.2 | 100.00% (0; 0/O 0) | - |'].join('\n'),
    );
  });
});
