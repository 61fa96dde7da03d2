import { strict as assert } from 'assert';
import { formatConfusionPairs, scorePredictions } from '../../src/eval';

describe('scorePredictions', () => {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

  it('computes character, whole-image and per-position accuracy', () => {
    const r = scorePredictions(['AB12', 'CD34', 'EF56', 'GH78'], ['AB12', 'CD30', 'EF56', '0H70'], alphabet);
    assert.equal(r.wholeAccuracy, 0.5);
    assert.equal(r.characterAccuracy, 13 / 16);
    assert.deepEqual(r.perPositionAccuracy, [0.75, 1, 1, 0.5]);
    assert.deepEqual(r.misreads.map((m) => m.index), [1, 3]);
  });

  it('counts (predicted, true) confusion pairs, most frequent first, as in the original', () => {
    const r = scorePredictions(['O1O2', 'OOO3', 'B8QQ'], ['01O2', '0003', '88QO'], alphabet);
    assert.deepEqual(r.confusionPairs[0], { predicted: '0', actual: 'O', count: 4 });
    assert.equal(formatConfusionPairs(r.confusionPairs), '{0,O}->4, {8,B}->1, {O,Q}->1');
  });

  it('fills a 36x36 confusion matrix with rows = true, columns = predicted', () => {
    const r = scorePredictions(['OA'], ['0A'], alphabet);
    const O = alphabet.indexOf('O');
    const A = alphabet.indexOf('A');
    assert.equal(r.confusionMatrix.length, 36);
    assert.equal(r.confusionMatrix[O][0], 1);
    assert.equal(r.confusionMatrix[A][A], 1);
    assert.equal(r.confusionMatrix.flat().reduce((a, b) => a + b, 0), 2);
  });

  it('counts missing and extra characters of texts of another length as wrong', () => {
    const r = scorePredictions(['ABCDE'], ['ABC'], alphabet);
    assert.equal(r.characterAccuracy, 3 / 5);
    assert.equal(r.wholeAccuracy, 0);
    assert.deepEqual(r.perPositionAccuracy, [1, 1, 1, 0, 0]);
  });

  it('scores per position over the true texts\' positions only, extra characters counting as character errors', () => {
    const r = scorePredictions(['AB', 'CD'], ['ABE', 'CD'], alphabet);
    assert.deepEqual(r.perPositionAccuracy, [1, 1]);
    assert.equal(r.characterAccuracy, 4 / 5);
    assert.equal(r.wholeAccuracy, 1 / 2);
  });

  it('refuses mismatched or empty inputs', () => {
    assert.throws(() => scorePredictions(['A'], [], alphabet), /1 true texts but 0 predictions/);
    assert.throws(() => scorePredictions([], [], alphabet), /nothing to evaluate/);
  });
});
