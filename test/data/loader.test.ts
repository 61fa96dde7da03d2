import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { FolderDataset, writeDataset } from '../../src/data';
import { DEFAULT_ALPHABET } from '../../src/models';
import { tempDir, useNativeBackend, writeToyDataset } from '../helpers';

const input = { width: 160, height: 60, channels: 1 };

describe('FolderDataset', () => {
  before(useNativeBackend);
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir()));
  afterEach(() => cleanup());

  it('checks every label when opened, naming the file and 1-based line of one of another length', async () => {
    await writeDataset({ out: dir, count: 6, seed: 1, workers: 0 });
    const labels = fs.readFileSync(path.join(dir, 'labels.txt'), 'utf8').split('\n');
    labels[4] = labels[4].slice(0, 3);
    fs.writeFileSync(path.join(dir, 'labels.txt'), labels.join('\n'));
    await assert.rejects(FolderDataset.open({ dir, alphabet: DEFAULT_ALPHABET, input }), {
      message:
        `${path.join(dir, 'labels.txt')} line 5 ('${labels[4]}') has 3 characters but line 1 has 4; ` +
        'every label of a dataset folder must have the same length: fix that line or regenerate the dataset ' +
        '(texts of several lengths: train a CTC model on fresh CAPTCHAs, `train --source stream --min-length`)',
    });
  });

  it('refuses a damaged image with a fix that works: rerunning generate repairs the folder', async () => {
    await writeDataset({ out: dir, count: 3, seed: 1, workers: 0 });
    const file = path.join(dir, '2.jpg');
    const bytes = fs.readFileSync(file);
    for (let k = 0; k < 64; k++) bytes[(bytes.length >> 1) + k] = (k * 73) & 0xff;
    fs.writeFileSync(file, bytes);
    const ds = await FolderDataset.open({ dir, alphabet: DEFAULT_ALPHABET, input });
    await assert.rejects(ds.loadBatch([0, 1, 2]), {
      message: new RegExp(
        `^image '${file}' is (truncated or )?corrupt: .*; repair the dataset by rerunning the \`captcha-lab generate --out ${dir}\` ` +
          'that made it, with the same options .*: a rerun keeps intact images and regenerates damaged ones$',
      ),
    });
    const rerun = await writeDataset({ out: dir, count: 3, seed: 1, workers: 0 });
    assert.equal(rerun.generated, 1);
    const batch = await ds.loadBatch([0, 1, 2]);
    assert.deepEqual(batch.xs.shape, [3, 60, 160, 1]);
    batch.xs.dispose();
    batch.ys.dispose();
  });

  it('refuses images too small for the model when resizing them', async () => {
    writeToyDataset(dir, 2, { width: 8, height: 6 });
    await assert.rejects(FolderDataset.open({ dir, alphabet: '0123', input: { width: 40, height: 24, channels: 1 }, resize: true }), {
      message: /^image '.*0\.png' is 8x6, too small to hold a CAPTCHA: the model reads 40x24 .* at least 10x6; /,
    });
  });
});
