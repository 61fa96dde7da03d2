import { strict as assert } from 'node:assert';
import { withDefaults } from '../src/options';

describe('withDefaults', () => {
  const defaults = { width: 160, height: 60 };

  it('lets given options override the defaults', () => {
    assert.deepStrictEqual(withDefaults(defaults, { width: 200 }), { width: 200, height: 60 });
  });

  it('keeps the default for keys given as undefined', () => {
    assert.deepStrictEqual(withDefaults(defaults, { width: undefined, height: 64 }), { width: 160, height: 64 });
  });

  it('keeps keys that have no default, and accepts no options at all', () => {
    assert.deepStrictEqual(withDefaults(defaults, { out: 'data' }), { width: 160, height: 60, out: 'data' });
    assert.deepStrictEqual(withDefaults(defaults, undefined), defaults);
  });

  it('leaves the defaults object untouched', () => {
    withDefaults(defaults, { width: 1 });
    assert.deepStrictEqual(defaults, { width: 160, height: 60 });
  });
});
