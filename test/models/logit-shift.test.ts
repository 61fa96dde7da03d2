import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { ctcConstrainedDecode, logitShiftAt, logitShiftProblem, shiftLogits, type LogitShift } from '../../src/models';
import { useNativeBackend } from '../helpers';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const SHIFT: LogitShift = { raise: '0', lower: 'O', widths: [140, 170], heights: [60, 80], shifts: [[-1, -2], [3, 1]] };

describe('0/O logit shift by image size', () => {
  before(useNativeBackend);

  it('takes the corner values at the corners, blends them bilinearly between, and holds the edges outside', () => {
    assert.equal(logitShiftAt(SHIFT, { width: 140, height: 60 }), -1);
    assert.equal(logitShiftAt(SHIFT, { width: 170, height: 60 }), -2);
    assert.equal(logitShiftAt(SHIFT, { width: 140, height: 80 }), 3);
    assert.equal(logitShiftAt(SHIFT, { width: 170, height: 80 }), 1);
    assert.equal(logitShiftAt(SHIFT, { width: 155, height: 70 }), (-1 - 2 + 3 + 1) / 4);
    assert.equal(logitShiftAt(SHIFT, { width: 155, height: 60 }), -1.5);
    assert.equal(logitShiftAt(SHIFT, { width: 100, height: 40 }), -1, 'below both ranges: the 140x60 corner');
    assert.equal(logitShiftAt(SHIFT, { width: 400, height: 200 }), 1, 'above both: the 170x80 corner');
  });

  it('raises one class by half the shift and lowers the other by half, per image, in every frame', async () => {
    const logits = tf.zeros([2, 3, ALPHABET.length + 1]) as tf.Tensor3D;
    const shifted = shiftLogits(logits, SHIFT, [{ width: 140, height: 60 }, { width: 140, height: 80 }], ALPHABET);
    const v = (await shifted.array()) as number[][][];
    const zero = ALPHABET.indexOf('0');
    const oh = ALPHABET.indexOf('O');
    for (let t = 0; t < 3; t++) {
      assert.deepEqual([v[0][t][zero], v[0][t][oh]], [-0.5, 0.5]);
      assert.deepEqual([v[1][t][zero], v[1][t][oh]], [1.5, -1.5]);
      assert.equal(v[0][t].filter((x) => x !== 0).length, 2, 'no other class moves');
    }
    assert.throws(() => shiftLogits(logits, SHIFT, [{ width: 140, height: 60 }], ALPHABET), /1 image sizes for a batch of 2; give one size per image/);
    assert.throws(() => shiftLogits(logits, SHIFT, [{ width: 140, height: 60 }, { width: 140, height: 60 }], '0123456789ABCDEFGHIJKLMN'), /lacks 'O'/);
    tf.dispose([logits, shifted]);
  });

  it('turns a narrow O-over-0 reading into 0 where the shift favours 0, and leaves it where it does not', async () => {
    const classes = ALPHABET.length + 1;
    const frames = [ALPHABET.indexOf('A'), -1, ALPHABET.indexOf('O'), -1, ALPHABET.indexOf('B'), -1, ALPHABET.indexOf('C')];
    const row = (k: number): number[] => Array.from({ length: classes }, (_, c) => (k === -1 ? (c === classes - 1 ? 5 : 0) : c === k ? 5 : 0));
    const values = frames.map(row);
    values[2][ALPHABET.indexOf('0')] = 4.8; // O leads 0 by 0.2
    const logits = tf.tensor3d([values, values]);
    const rules = { min: 4, max: 4, distinct: true };
    const [plain] = await ctcConstrainedDecode(logits, rules);
    assert.equal(plain.map((c) => ALPHABET[c]).join(''), 'AOBC');
    const shifted = shiftLogits(logits, SHIFT, [{ width: 140, height: 80 }, { width: 140, height: 60 }], ALPHABET);
    const read = (await ctcConstrainedDecode(shifted, rules)).map((p) => p.map((c) => ALPHABET[c]).join(''));
    assert.deepEqual(read, ['A0BC', 'AOBC']);
    tf.dispose([logits, shifted]);
  });

  it('names what is wrong with a stored shift', () => {
    assert.equal(logitShiftProblem(SHIFT, ALPHABET), null);
    assert.match(logitShiftProblem(null, ALPHABET)!, /not an object/);
    assert.match(logitShiftProblem({ ...SHIFT, raise: 'o' }, ALPHABET)!, /raise must be one character of the alphabet/);
    assert.match(logitShiftProblem({ ...SHIFT, lower: '0' }, ALPHABET)!, /same character '0'/);
    assert.match(logitShiftProblem({ ...SHIFT, widths: [170, 140] }, ALPHABET)!, /widths must be two sizes in px, smaller first/);
    assert.match(logitShiftProblem({ ...SHIFT, heights: [60] }, ALPHABET)!, /heights must be two sizes/);
    assert.match(logitShiftProblem({ ...SHIFT, shifts: [[1, 2], [3, 'x']] }, ALPHABET)!, /shifts must be \[\[n, n\], \[n, n\]\]/);
    assert.match(logitShiftProblem({ ...SHIFT, shifts: [[1, 2], [3, Infinity]] }, ALPHABET)!, /finite numbers/);
  });
});
