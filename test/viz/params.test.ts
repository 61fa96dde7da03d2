import { strict as assert } from 'assert';
import { envCount, envNumber, envString } from '../../src/viz';

describe('notebook parameters from the environment', () => {
  it('uses the fallback when the variable is unset or empty', () => {
    assert.equal(envNumber('X', 2000, {}, {}), 2000);
    assert.equal(envNumber('X', 2000, {}, { X: ' ' }), 2000);
    assert.equal(envString('S', 'a', {}), 'a');
  });

  it('reads numbers and strings that are set', () => {
    assert.equal(envNumber('LR', 0.001, {}, { LR: '3e-4' }), 0.0003);
    assert.equal(envString('S', 'a', { S: 'b' }), 'b');
  });

  it('names the variable and the problem when a value is unusable', () => {
    assert.throws(() => envNumber('CAPTCHA_LAB_COUNT', 2000, {}, { CAPTCHA_LAB_COUNT: 'lots' }), /CAPTCHA_LAB_COUNT='lots' is not a number; unset it or give a number such as 2000/);
    assert.throws(() => envCount('E', 2, { E: '1.5' }), /E=1.5 must be a whole number/);
    assert.throws(() => envCount('E', 2, { E: '0' }), /E=0 must be >= 1/);
  });
});
