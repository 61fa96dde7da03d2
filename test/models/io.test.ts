import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { createModel, loadModel, saveModel } from '../../src/models';
import { checkModelFolder, expectedWeightBytes } from '../../src/models/io';
import { tempDir, useNativeBackend } from '../helpers';

/** Damaged and incomplete model folders: each error names the file, what is wrong, and the fix. */
describe('loadModel on damaged or incomplete folders', () => {
  before(useNativeBackend);
  const meta = { architecture: 'seed', alphabet: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', input: { height: 80, width: 80, channels: 3 } };
  let root: string;
  let cleanup: () => void;
  let saved: string;

  before(async () => {
    ({ dir: root, cleanup } = tempDir());
    saved = path.join(root, 'saved');
    const model = createModel('seed', { height: 80, width: 80, numPositions: 2 });
    await saveModel(model, saved, meta);
    model.dispose();
  });
  after(() => cleanup());

  /** A copy of the saved model with `change` applied to it. */
  function damaged(name: string, change: (dir: string) => void): string {
    const dir = path.join(root, name);
    fs.cpSync(saved, dir, { recursive: true });
    change(dir);
    return dir;
  }

  const fix = /git checkout -- .*; a copied one: copy it again\) or retrain it with `captcha-lab train`/;

  it('loads the intact copy (the damage below is what fails)', async () => {
    const { model } = await loadModel(damaged('intact', () => undefined));
    model.dispose();
  });

  it('says why a folder holds no model: missing, a file, a dataset, a run without weights, a checkpoint only', () => {
    assert.throws(() => checkModelFolder(path.join(root, 'none')), /no model in '.*none': the folder does not exist; pass --model-dir models\/<run>/);
    assert.throws(() => checkModelFolder(path.join(saved, 'model.json')), /it is a file, not a folder; pass its folder '.*saved'/);
    const dataset = path.join(root, 'dataset');
    fs.mkdirSync(dataset);
    fs.writeFileSync(path.join(dataset, 'labels.txt'), 'AB12\n');
    assert.throws(() => checkModelFolder(dataset), /it is an image folder \(labels.txt\), not a model; give it as --data-dir/);
    const run = path.join(root, 'run');
    fs.mkdirSync(run);
    fs.writeFileSync(path.join(run, 'run.json'), '{}');
    assert.throws(() => checkModelFolder(run), /holds a run record \(run.json\) but no model.json, so its weights were not kept/);
    fs.cpSync(saved, path.join(run, 'checkpoint'), { recursive: true });
    assert.throws(() => checkModelFolder(run), /only a checkpoint so far; pass --model-dir .*run\/checkpoint, or finish the run/);
  });

  it('names a missing metadata.json or weights.bin with the fix', async () => {
    const noMeta = damaged('no-meta', (dir) => fs.rmSync(path.join(dir, 'metadata.json')));
    await assert.rejects(loadModel(noMeta), /has model.json but no metadata.json: it was not saved by captcha-lab, or the file was lost/);
    const noWeights = damaged('no-weights', (dir) => fs.rmSync(path.join(dir, 'weights.bin')));
    await assert.rejects(loadModel(noWeights), (err: Error) => /no-weights\/weights.bin is missing: the model folder is incomplete/.test(err.message) && fix.test(err.message));
  });

  it('names a metadata.json or model.json that is not valid JSON, e.g. cut short', async () => {
    const cut = (file: string) => (dir: string) => fs.writeFileSync(path.join(dir, file), fs.readFileSync(path.join(dir, file), 'utf8').slice(0, 40));
    await assert.rejects(loadModel(damaged('bad-meta', cut('metadata.json'))), (err: Error) => /bad-meta\/metadata.json is damaged \(40 bytes, not valid JSON: /.test(err.message) && fix.test(err.message));
    await assert.rejects(loadModel(damaged('bad-model', cut('model.json'))), (err: Error) => /bad-model\/model.json is damaged \(40 bytes, not valid JSON: /.test(err.message) && fix.test(err.message));
  });

  it('compares weights.bin with the size its manifest lists: truncated, odd-sized or too long', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(saved, 'model.json'), 'utf8')).weightsManifest[0].weights;
    const size = fs.statSync(path.join(saved, 'weights.bin')).size;
    assert.equal(expectedWeightBytes(manifest), size);
    const resize = (bytes: number) => (dir: string) => fs.truncateSync(path.join(dir, 'weights.bin'), bytes);
    for (const [name, bytes, what] of [['short', size - 4096, 'truncated'], ['odd', size - 3, 'truncated'], ['long', size + 8, 'longer than its manifest']] as const) {
      await assert.rejects(loadModel(damaged(name, resize(bytes))), (err: Error) =>
        err.message.includes(`${name}/weights.bin has ${bytes} bytes but model.json lists ${size} bytes of weights: the file is ${what}`) && fix.test(err.message));
    }
  });

  it('refuses metadata of another kind: fields missing, an unknown architecture, an unknown input fit', async () => {
    const write = (json: object) => (dir: string) => fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(json));
    await assert.rejects(loadModel(damaged('no-input', write({ architecture: 'seed', alphabet: 'AB' }))), /metadata.json lacks architecture, alphabet or input/);
    await assert.rejects(
      loadModel(damaged('unknown-arch', write({ ...meta, architecture: 'resnet' }))),
      /metadata.json names the architecture 'resnet', which is not registered \(known: seed, .*\); register it first/,
    );
    await assert.rejects(
      loadModel(damaged('bad-fit', write({ ...meta, input: { ...meta.input, fit: 'crop' } }))),
      /metadata.json has input.fit 'crop', not one of stretch, letterbox: a model of a newer captcha-lab \(update it\), or edited metadata/,
    );
  });

  it('names a model.json without a layers model in it', async () => {
    const dir = damaged('graph', (d) => fs.writeFileSync(path.join(d, 'model.json'), JSON.stringify({ format: 'graph-model' })));
    await assert.rejects(loadModel(dir), /graph\/model.json lacks modelTopology or weightsManifest: it is not a TensorFlow.js layers model/);
  });
});
