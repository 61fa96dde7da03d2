/**
 * Saving and loading models in TensorFlow.js format (`model.json` + `weights.bin`) with a
 * `metadata.json` beside them, through plain `fs` so it works on every backend (the `file://`
 * handler exists only with tfjs-node). Saves are atomic: everything is written to a temporary
 * sibling folder that replaces the target in one rename, so a crash never leaves half a model.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { TextRules } from './ctc';
import './seeded-dropout'; // registers the custom layer class for deserialisation

/** What we store beside the weights; `architecture` names the registry entry. */
export interface ModelMetadata {
  architecture: string;
  alphabet: string;
  input: { height: number; width: number; channels: number };
  /** Characters per text (the most, for a CTC model trained on several lengths). */
  length?: number;
  /** The fewest characters per text it was trained on; `length` when absent. */
  minLength?: number;
  /** Every text it was trained on had distinct characters (the experiment's rule). */
  distinctCharacters?: boolean;
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

/** Reads `metadata.json` of a saved model, with errors that say what is wrong. */
export function readModelMetadata(dir: string): ModelMetadata {
  const file = path.join(dir, METADATA_JSON);
  if (!fs.existsSync(path.join(dir, MODEL_JSON))) {
    throw new Error(`no model in '${dir}': ${MODEL_JSON} is missing; train one with \`captcha-lab train\` or pass --model-dir`);
  }
  if (!fs.existsSync(file)) {
    throw new Error(`'${dir}' has ${MODEL_JSON} but no ${METADATA_JSON}: it was not saved by captcha-lab`);
  }
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelMetadata;
  if (typeof meta.architecture !== 'string' || typeof meta.alphabet !== 'string' || !meta.input) {
    throw new Error(`${file} lacks architecture, alphabet or input; it is not a captcha-lab model`);
  }
  return meta;
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
  const modelJson = JSON.parse(fs.readFileSync(path.join(dir, MODEL_JSON), 'utf8'));
  const weightsFile = path.join(dir, WEIGHTS_BIN);
  if (!fs.existsSync(weightsFile)) throw new Error(`'${dir}' lacks ${WEIGHTS_BIN}; the model folder is incomplete`);
  const bytes = fs.readFileSync(weightsFile);
  const weightSpecs = modelJson.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights);
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      weightSpecs,
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
  );
  return { model, metadata };
}
