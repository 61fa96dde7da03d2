import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { decodingRules, formatTextLength, freshTextLength, predictTexts, trainedTextLength } from '../../src/eval';
import { textRulesOf } from '../../src/models';
import { logitsModel, useNativeBackend } from '../helpers';

describe('predictTexts', () => {
  before(useNativeBackend);

  it('reads CTC texts of the trained length when given one, greedily otherwise', async () => {
    // Blank = 3 ('012' + blank). Greedy reads "012"; the best 4-character path reads "0102".
    const model = logitsModel(4, 4);
    const xs = tf.tensor4d([[[[5, 0, 0, 0], [0, 5, 0, 0], [4, 4.5, 0, 0], [0, 0, 5, 0]]]]);
    assert.deepEqual(await predictTexts(model, xs, '012', 'ctc'), ['012']);
    assert.deepEqual(await predictTexts(model, xs, '012', 'ctc', { min: 4, max: 4 }), ['0102']);
    assert.deepEqual(await predictTexts(model, xs, '012', 'ctc', { min: 1, max: 3 }), ['012']);
    // four distinct characters from three: impossible, said clearly
    await assert.rejects(predictTexts(model, xs, '012', 'ctc', { min: 4, max: 4, distinct: true }), /4 distinct characters cannot be drawn from 3 classes/);
    xs.dispose();
    model.dispose();
  });
});

describe('the texts of a saved model (textRulesOf, decodingRules, trainedTextLength)', () => {
  const meta = { architecture: 'crnn', alphabet: 'AB', input: { height: 1, width: 1, channels: 1 } };

  it('gives the texts a saved model was trained on: fixed length or a range, distinct or not, or none', () => {
    assert.deepEqual(textRulesOf({ ...meta, length: 4 }), { min: 4, max: 4, distinct: false });
    assert.deepEqual(textRulesOf({ ...meta, length: 6, minLength: 3, distinctCharacters: true }), { min: 3, max: 6, distinct: true });
    assert.equal(textRulesOf(meta), undefined);
  });

  it('decodes CTC models by their training texts unless greedy, per-position models by their heads', () => {
    const trained = { ...meta, length: 6, minLength: 3 };
    assert.deepEqual(decodingRules(trained, 'ctc'), { min: 3, max: 6, distinct: false });
    assert.equal(decodingRules(trained, 'ctc', true), undefined);
    assert.equal(decodingRules(trained, 'per-position'), undefined);
  });

  it('makes fresh test texts as long as the training texts: one length, a range, or the experiment\'s 4', () => {
    assert.equal(trainedTextLength({ ...meta, length: 5 }), 5);
    assert.deepEqual(trainedTextLength({ ...meta, length: 6, minLength: 3 }), [3, 6]);
    assert.equal(trainedTextLength(meta), 4);
  });
});

describe('freshTextLength (evaluate --fresh --length / --min-length)', () => {
  const meta = { architecture: 'crnn', alphabet: 'AB', input: { height: 1, width: 1, channels: 1 }, length: 4 };

  it('keeps the training texts\' length when none is asked for', () => {
    assert.equal(freshTextLength(meta, 'ctc'), 4);
    assert.deepEqual(freshTextLength({ ...meta, length: 6, minLength: 3 }, 'ctc'), [3, 6]);
  });

  it('gives a CTC model any length or range when read greedily', () => {
    assert.equal(freshTextLength(meta, 'ctc', { length: 6, greedy: true }), 6);
    assert.deepEqual(freshTextLength(meta, 'ctc', { minLength: 3, length: 5, greedy: true }), [3, 5]);
    assert.deepEqual(freshTextLength(meta, 'ctc', { minLength: 2, greedy: true }), [2, 4]);
  });

  it('allows lengths inside a CTC model\'s trained range without --greedy', () => {
    assert.equal(freshTextLength({ ...meta, length: 6, minLength: 3 }, 'ctc', { length: 5 }), 5);
  });

  it('refuses, with the fix, lengths the model cannot answer', () => {
    assert.throws(() => freshTextLength(meta, 'ctc', { length: 5 }), /decodes texts of 4 characters .*not 5; add --greedy/);
    assert.throws(() => freshTextLength(meta, 'per-position', { length: 5, greedy: true }), /per-position model reads exactly 4 characters .*not 5/);
    assert.throws(() => freshTextLength(meta, 'ctc', { minLength: 5, length: 3, greedy: true }), /--min-length 5 is above the text length 3; give --length of at least 5/);
  });

  it('writes a length as one number, a range as min-max', () => {
    assert.equal(formatTextLength(4), '4');
    assert.equal(formatTextLength([3, 6]), '3-6');
    assert.equal(formatTextLength([5, 5]), '5');
  });

  it('accepts the trained length spelled out for a per-position model', () => {
    assert.equal(freshTextLength(meta, 'per-position', { length: 4 }), 4);
  });
});

