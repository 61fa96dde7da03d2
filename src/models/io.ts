/**
 * Saving and loading models in TensorFlow.js format (`model.json` + `weights.bin`) with a
 * `metadata.json` beside them, through plain `fs` so it works on every backend (the `file://`
 * handler exists only with tfjs-node). Saves are atomic: everything is written to a temporary
 * sibling folder that replaces the target in one rename, so a crash never leaves half a model.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { TextRules } from './ctc';
import { logitShiftProblem, type LogitShift } from './logit-shift';
import { INPUT_FITS, isInputFit, type InputShape } from '../data/tensors';
import { listModels } from './registry';
import './seeded-dropout'; // registers the custom layer class for deserialisation

/** What we store beside the weights; `architecture` names the registry entry. */
export interface ModelMetadata {
  architecture: string;
  alphabet: string;
  /** `fit` (how other sizes are fitted, src/data/tensors) is absent on models saved before it: stretch. */
  input: InputShape;
  /** Characters per text (the most, for a CTC model trained on several lengths). */
  length?: number;
  /** The fewest characters per text it was trained on; `length` when absent. */
  minLength?: number;
  /** Every text it was trained on had distinct characters (the experiment's rule). */
  distinctCharacters?: boolean;
  /** CTC models: the 0-against-O calibration by image size (`captcha-lab calibrate`), used when decoding. */
  logitShift?: LogitShift;
  /**
   * CTC models: the subfolder holding a second look at 0 and O (src/eval/zero-o-reader.ts), used
   * when decoding unless turned off (`--no-second-look`).
   */
  zeroOReader?: string;
  [key: string]: unknown;
}

/**
 * What the texts a saved model was trained on looked like, for decoding (`predictTexts`): a CTC
 * model trained on 4 distinct characters answers 4 distinct characters. Undefined when the
 * metadata has no length.
 */
export function textRulesOf(metadata: ModelMetadata): TextRules | undefined {
  const max = Number(metadata.length);
  if (!Number.isInteger(max) || max <= 0) return undefined;
  const min = metadata.minLength === undefined ? max : Number(metadata.minLength);
  return { min, max, distinct: metadata.distinctCharacters === true };
}

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';
const METADATA_JSON = 'metadata.json';

/** Replaces `dir` with the folder `tmp` in (almost) one step: the old copy is removed only after. */
export function replaceDirAtomically(tmp: string, dir: string): void {
  const old = `${dir}.old-${process.pid}`;
  const hadOld = fs.existsSync(dir);
  if (hadOld) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  if (hadOld) fs.rmSync(old, { recursive: true, force: true });
}

/** Writes `files` (name -> contents) as the folder `dir`, atomically. */
export function writeFolderAtomically(dir: string, files: Record<string, string | Uint8Array>): void {
  fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), data);
    replaceDirAtomically(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Serialises a model to in-memory files (no disk access). */
export async function modelToFiles(model: tf.LayersModel): Promise<Record<string, string | Uint8Array>> {
  let files: Record<string, string | Uint8Array> = {};
  await model.save({
    save: async (artifacts) => {
      const weightData = artifacts.weightData;
      const buffers = Array.isArray(weightData) ? weightData : weightData ? [weightData] : [];
      const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b)));
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs }],
      };
      files = { [MODEL_JSON]: JSON.stringify(modelJson), [WEIGHTS_BIN]: bytes };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    },
  });
  return files;
}

/** Saves model + metadata (+ extra files) into `dir`, atomically. */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  metadata: ModelMetadata,
  extraFiles: Record<string, string | Uint8Array> = {},
): Promise<void> {
  const files = await modelToFiles(model);
  writeFolderAtomically(dir, {
    ...files,
    [METADATA_JSON]: JSON.stringify(metadata, null, 2),
    ...extraFiles,
  });
}

const MODEL_FILES = `${MODEL_JSON}, ${WEIGHTS_BIN} and ${METADATA_JSON}`;

/** The fix for a damaged or incomplete model folder, naming the folder. */
function restoreHint(dir: string): string {
  return `restore the folder (a model shipped with the repository: \`git checkout -- ${dir}\`; a copied one: copy it again) or retrain it with \`captcha-lab train\``;
}

/**
 * Why `dir` holds no saved model, as precisely as the folder allows: it does not exist, is a
 * file, is a dataset, is a run whose weights were not kept, or is a run with only a checkpoint.
 */
function noModelMessage(dir: string): string {
  const pick = 'pass --model-dir models/<run> (a folder written by `captcha-lab train`), or train one with `captcha-lab train`';
  if (!fs.existsSync(dir)) return `no model in '${dir}': the folder does not exist; ${pick}`;
  if (!fs.statSync(dir).isDirectory()) {
    const parent = path.dirname(dir);
    const isModelFile = [MODEL_JSON, WEIGHTS_BIN, METADATA_JSON].includes(path.basename(dir));
    return `no model in '${dir}': it is a file, not a folder; ${isModelFile ? `pass its folder '${parent}'` : pick}`;
  }
  const has = (name: string) => fs.existsSync(path.join(dir, name));
  if (has('labels.txt') || has('labels.csv')) {
    return `no model in '${dir}': it is an image folder (${has('labels.txt') ? 'labels.txt' : 'labels.csv'}), not a model; give it as --data-dir and ${pick}`;
  }
  if (has(path.join('checkpoint', MODEL_JSON))) {
    return `no model in '${dir}': the run has only a checkpoint so far; pass --model-dir ${path.join(dir, 'checkpoint')}, or finish the run with \`captcha-lab train --resume\``;
  }
  if (has('run.json')) {
    return `no model in '${dir}': it holds a run record (run.json) but no ${MODEL_JSON}, so its weights were not kept; ${pick}`;
  }
  return `no model in '${dir}': ${MODEL_JSON} is missing; ${pick}`;
}

/** Throws, with what is wrong and the fix, unless `dir` is a folder with model.json in it. */
export function checkModelFolder(dir: string): void {
  if (!fs.existsSync(path.join(dir, MODEL_JSON)) || !fs.statSync(dir).isDirectory()) throw new Error(noModelMessage(dir));
}

/** A model folder's JSON file, parsed; a missing, unreadable or damaged file is named with the fix. */
function readModelJsonFile(dir: string, name: string): unknown {
  const file = path.join(dir, name);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : `cannot be read (${(err as Error).message})`;
    throw new Error(`${file} ${reason}: the model folder is incomplete; ${restoreHint(dir)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is damaged (${text.length} bytes, not valid JSON: ${(err as Error).message}); ${restoreHint(dir)}`);
  }
}

/** Reads `metadata.json` of a saved model, with errors that say what is wrong and the fix. */
export function readModelMetadata(dir: string): ModelMetadata {
  checkModelFolder(dir);
  if (!fs.existsSync(path.join(dir, METADATA_JSON))) {
    throw new Error(
      `'${dir}' has ${MODEL_JSON} but no ${METADATA_JSON}: it was not saved by captcha-lab, or the file was lost; ` +
        `pass --model-dir of a folder written by \`captcha-lab train\` (it holds ${MODEL_FILES}), or ${restoreHint(dir)}`,
    );
  }
  const meta = readModelJsonFile(dir, METADATA_JSON) as ModelMetadata;
  const input = meta?.input;
  const inputOk = input && [input.height, input.width, input.channels].every((n) => Number.isInteger(n) && n > 0);
  if (typeof meta?.architecture !== 'string' || typeof meta.alphabet !== 'string' || meta.alphabet.length === 0 || !inputOk) {
    throw new Error(
      `${path.join(dir, METADATA_JSON)} lacks architecture, alphabet or input { height, width, channels }: it is not a captcha-lab model's metadata; ` +
        restoreHint(dir),
    );
  }
  if (input.fit !== undefined && !isInputFit(input.fit)) {
    throw new Error(
      `${path.join(dir, METADATA_JSON)} has input.fit '${String(input.fit)}', not one of ${INPUT_FITS.join(', ')}: ` +
        `a model of a newer captcha-lab (update it), or edited metadata (set input.fit to one of those, or remove it for stretch); ${restoreHint(dir)}`,
    );
  }
  const shiftProblem = meta.logitShift === undefined ? null : logitShiftProblem(meta.logitShift, meta.alphabet);
  if (shiftProblem) {
    throw new Error(
      `${path.join(dir, METADATA_JSON)} has a logitShift that cannot be used (${shiftProblem}): ` +
        `remove logitShift from it to read without calibration (then \`captcha-lab calibrate --model-dir ${dir}\` fits a new one); ${restoreHint(dir)}`,
    );
  }
  if (meta.zeroOReader !== undefined && (typeof meta.zeroOReader !== 'string' || !/^[\w.-]+$/.test(meta.zeroOReader) || /^\.+$/.test(meta.zeroOReader))) {
    throw new Error(
      `${path.join(dir, METADATA_JSON)} has zeroOReader ${JSON.stringify(meta.zeroOReader)}, which is not the name of a subfolder: ` +
        `set it to the reader's folder inside the model folder (e.g. "zero-o-reader") or remove it to read without the second look; ${restoreHint(dir)}`,
    );
  }
  const known = listModels().map((spec) => spec.name);
  if (!known.includes(meta.architecture)) {
    throw new Error(
      `${path.join(dir, METADATA_JSON)} names the architecture '${meta.architecture}', which is not registered (known: ${known.join(', ')}); ` +
        'register it first (registerModel) if it is your own, or pass --model-dir of a model of a known architecture',
    );
  }
  return meta;
}

/** Bytes per value of each weight dtype a `weights.bin` can hold (quantised weights: their stored dtype). */
const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** The size `weights.bin` must have for `specs`; undefined when a dtype has no fixed size. */
export function expectedWeightBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const bytes = DTYPE_BYTES[spec.quantization?.dtype ?? spec.dtype];
    if (bytes === undefined) return undefined;
    total += spec.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}

export interface LoadedModel {
  model: tf.LayersModel;
  metadata: ModelMetadata;
}

/**
 * Loads a model saved by `saveModel`. With `expectArchitecture`, a model of another architecture
 * is refused (e.g. resuming a `seed` run from a `crnn` folder).
 */
export async function loadModel(dir: string, expectArchitecture?: string): Promise<LoadedModel> {
  const metadata = readModelMetadata(dir);
  if (expectArchitecture && metadata.architecture !== expectArchitecture) {
    throw new Error(
      `'${dir}' holds a '${metadata.architecture}' model, not '${expectArchitecture}'; pick the matching --model or another folder`,
    );
  }
  return { model: await readLayersModel(dir), metadata };
}

/**
 * The 0/O reader saved with a CTC model (`metadata.zeroOReader`, a subfolder; src/eval/zero-o-reader.ts),
 * or undefined when it has none. Loaded apart from the model, only by what reads with it.
 */
export async function loadZeroOReader(dir: string, metadata: ModelMetadata): Promise<tf.LayersModel | undefined> {
  if (metadata.zeroOReader === undefined) return undefined;
  const readerDir = path.join(dir, metadata.zeroOReader);
  if (!fs.existsSync(path.join(readerDir, MODEL_JSON))) {
    throw new Error(
      `${path.join(dir, METADATA_JSON)} names the 0/O reader '${metadata.zeroOReader}', but ${readerDir} holds none: ` +
        `copy the model folder with its subfolders (cp -r; the shipped model: \`git checkout -- ${dir}\`), ` +
        'read without it (--no-second-look), or remove zeroOReader from metadata.json',
    );
  }
  return readLayersModel(readerDir);
}

/** The layers model in `dir`'s model.json and weights.bin, checked; errors name the fix. */
export async function readLayersModel(dir: string): Promise<tf.LayersModel> {
  const modelFile = path.join(dir, MODEL_JSON);
  const modelJson = readModelJsonFile(dir, MODEL_JSON) as { modelTopology?: unknown; weightsManifest?: Array<{ weights?: tf.io.WeightsManifestEntry[] }> };
  if (!modelJson?.modelTopology || !Array.isArray(modelJson.weightsManifest) || !modelJson.weightsManifest.every((g) => Array.isArray(g?.weights))) {
    throw new Error(`${modelFile} lacks modelTopology or weightsManifest: it is not a TensorFlow.js layers model; ${restoreHint(dir)}`);
  }
  const weightSpecs = modelJson.weightsManifest.flatMap((g) => g.weights ?? []);
  const weightsFile = path.join(dir, WEIGHTS_BIN);
  if (!fs.existsSync(weightsFile)) throw new Error(`${weightsFile} is missing: the model folder is incomplete; ${restoreHint(dir)}`);
  const bytes = fs.readFileSync(weightsFile);
  const expected = expectedWeightBytes(weightSpecs);
  if (expected !== undefined && bytes.byteLength !== expected) {
    throw new Error(
      `${weightsFile} has ${bytes.byteLength} bytes but ${MODEL_JSON} lists ${expected} bytes of weights: ` +
        `the file is ${bytes.byteLength < expected ? 'truncated' : 'longer than its manifest (from another model?)'}; ${restoreHint(dir)}`,
    );
  }
  try {
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology as tf.io.ModelJSON['modelTopology'],
        weightSpecs,
        weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      }),
    );
    // Freezing is a setting of a training run (`freeze`), not of the model: one saved while some
    // layers were frozen would otherwise load with them half frozen (the layer says so, its
    // variables do not), and whoever trains it next would be surprised either way.
    for (const layer of model.layers) layer.trainable = true;
    return model;
  } catch (err) {
    throw new Error(`cannot build the model of '${dir}' from ${MODEL_JSON} and ${WEIGHTS_BIN} (${(err as Error).message}); ${restoreHint(dir)}`);
  }
}

/** sha256 of the model's weights file, 16 hex digits: tells a retrained model from the one a report scored. */
export function weightsDigest(modelDir: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(path.join(modelDir, WEIGHTS_BIN))).digest('hex').slice(0, 16);
}
