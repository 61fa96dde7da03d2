import { strict as assert } from 'assert';
import { median } from '../../scripts/stats';

describe('median (benchmark scripts)', () => {
  it('takes the middle value of an odd count, whatever the order', () => {
    assert.equal(median([3, 1, 2]), 2);
  });
  it('averages the two middle values of an even count', () => {
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });
  it('is NaN for no values and leaves its input unsorted', () => {
    assert.ok(Number.isNaN(median([])));
    const xs = [2, 1];
    median(xs);
    assert.deepEqual(xs, [2, 1]);
  });
});
