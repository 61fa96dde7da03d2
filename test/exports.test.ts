import { strict as assert } from 'assert';
import * as lab from '../src';

describe('the package entry point', () => {
  it('exposes one namespace per concern', () => {
    assert.deepEqual(Object.keys(lab).sort(), ['backend', 'captcha', 'data', 'evaluation', 'files', 'models', 'train', 'viz']);
  });

  it('exposes the names a script needs from each concern', () => {
    assert.equal(typeof lab.backend.selectBackend, 'function');
    assert.equal(typeof lab.captcha.ImageCaptcha, 'function');
    assert.equal(typeof lab.data.writeDataset, 'function');
    assert.equal(typeof lab.files.writeFileAtomic, 'function');
    assert.equal(typeof lab.data.createCaptchaStream, 'function');
    assert.equal(typeof lab.data.FolderDataset, 'function');
    assert.equal(typeof lab.models.createModel, 'function');
    assert.equal(typeof lab.models.ctcLoss, 'function');
    assert.equal(typeof lab.train.train, 'function');
    assert.equal(typeof lab.evaluation.scorePredictions, 'function');
    assert.equal(typeof lab.viz.renderGrid, 'function');
  });
});
