/**
 * The model registry: one file per architecture, registered here by name, so the CLI, the
 * notebooks and saved runs can all say `--model seed`.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_ALPHABET } from './charset';
import { createBenchNet } from './bench-net';
import { createCrnnNet } from './crnn-net';
import { createSeedNet } from './seed-net';
import { createSeedBnNet } from './seed-bn-net';
import { INIT_SCHEMES, type InitScheme } from './init';
import type { HeadKind, ModelOptions } from './types';
import { withDefaults } from '../options';

export interface ModelSpec {
  name: string;
  description: string;
  head: HeadKind;
  /** The input the architecture was designed for; any size the layers accept can be used. */
  defaultInput: { height: number; width: number; channels: number };
  /** Initialisation schemes `create` honours through `options.init`; none when unset. */
  inits?: readonly InitScheme[];
  /**
   * Architectures whose saved weights this one can start from (`initFrom`) besides its own: the
   * layers of the same name are copied, a larger kernel gets the smaller one in its first rows and
   * zeros in the rest (`embedWeights`), and layers the other lacks keep their initialisation.
   */
  extends?: readonly string[];
  create(options: ModelOptions): tf.LayersModel;
}

export const DEFAULT_MODEL_OPTIONS: Omit<ModelOptions, 'height' | 'width' | 'channels'> = {
  numClasses: DEFAULT_ALPHABET.length,
  numPositions: 4,
  seed: 1,
};

const registry = new Map<string, ModelSpec>();

export function registerModel(spec: ModelSpec): void {
  registry.set(spec.name, spec);
}

export function listModels(): ModelSpec[] {
  return [...registry.values()];
}

export function getModelSpec(name: string): ModelSpec {
  const spec = registry.get(name);
  if (!spec) {
    throw new Error(`unknown model '${name}'; registered models: ${[...registry.keys()].join(', ')}`);
  }
  return spec;
}

/** Builds an uncompiled model by registry name; unspecified options come from the defaults. */
export function createModel(name: string, options: Partial<ModelOptions> = {}): tf.LayersModel {
  const spec = getModelSpec(name);
  const full: ModelOptions = withDefaults({ ...DEFAULT_MODEL_OPTIONS, ...spec.defaultInput }, options);
  for (const key of ['height', 'width', 'channels', 'numClasses', 'numPositions'] as const) {
    if (!Number.isInteger(full[key]) || full[key] <= 0) {
      throw new Error(`model option ${key}=${full[key]} must be a positive integer`);
    }
  }
  if (full.init !== undefined && !(spec.inits ?? []).includes(full.init)) {
    if (!INIT_SCHEMES.includes(full.init)) throw new Error(`unknown init '${full.init}'; known: ${INIT_SCHEMES.join(', ')}`);
    const takers = listModels().filter((s) => s.inits?.includes(full.init as InitScheme)).map((s) => s.name);
    throw new Error(`model '${name}' has no init setting (init ${full.init} applies to ${takers.join(', ')}); leave init unset`);
  }
  try {
    return spec.create(full);
  } catch (err) {
    // tfjs-layers reports a conv/pool stack that shrinks the image below one pixel as a tensor of
    // negative shape; say which input was too small instead.
    if (err instanceof Error && /shape comprised of positive integers|negative|must be positive/i.test(err.message)) {
      const { height, width } = spec.defaultInput;
      throw new Error(
        `input ${full.width}x${full.height} is too small for model '${name}': its convolutions and poolings shrink it below one pixel; ` +
          `use an input closer to its default ${width}x${height} (--width/--height), or a model made for small images`,
      );
    }
    throw err;
  }
}

registerModel({
  name: 'seed',
  description: 'the 2017 experiment: VGG-like 3x3 convs 32,32/64,64/128,128/256,256, 4 softmax heads',
  head: 'per-position',
  defaultInput: { height: 80, width: 170, channels: 3 },
  inits: INIT_SCHEMES,
  create: createSeedNet,
});

registerModel({
  name: 'seed-bn',
  description: 'the seed network with batch normalisation between each conv and its ReLU (learns where seed stalls)',
  head: 'per-position',
  defaultInput: { height: 80, width: 170, channels: 3 },
  inits: INIT_SCHEMES,
  create: createSeedBnNet,
});

registerModel({
  name: 'bench',
  description: 'the speed benchmark net of scripts/keras_reference.py: 3 x (conv same + ReLU, BatchNorm, pool)',
  head: 'per-position',
  defaultInput: { height: 64, width: 160, channels: 1 },
  create: createBenchNet,
});

registerModel({
  name: 'crnn',
  description: 'CNN with batch norm over column features + 1-D conv head, CTC over 40 steps; reads any length',
  head: 'ctc',
  defaultInput: { height: 64, width: 160, channels: 1 },
  create: createCrnnNet,
});

/**
 * The crnn with wider late conv blocks (192 and 256 filters instead of 128 and 128): both the crnn
 * and its one-part rerun stopped at 98.4-98.6% whole-image accuracy, nearly all of the loss on 0/O,
 * whatever the number of images; this tests whether capacity, not data, is the limit.
 * About 0.78x the crnn's training speed (scripts/bench-crnn.ts --filters 32,64,192,256).
 */
export const CRNN_WIDE_FILTERS = [32, 64, 192, 256];

registerModel({
  name: 'crnn-wide',
  description: `the crnn with wider late conv blocks (filters ${CRNN_WIDE_FILTERS.join(',')}); ~0.78x its training speed`,
  head: 'ctc',
  defaultInput: { height: 64, width: 160, channels: 1 },
  create: (options) => createCrnnNet({ ...options, filters: CRNN_WIDE_FILTERS }),
});

/**
 * `crnn-wide` with a summary of the whole image beside every output step (`globalContext`, 64
 * units): each step of `crnn-wide` sees about 42 input px, one glyph, while whether a round
 * glyph is a 0 or an O depends on how much lepture squeezed the whole text (docs/pretrained.md).
 * It starts from a `crnn-wide` model reading exactly as that model does (the summary's weights
 * in the first head layer start at zero).
 */
export const CRNN_CONTEXT_UNITS = 64;

registerModel({
  name: 'crnn-wide-context',
  description: `crnn-wide with a ${CRNN_CONTEXT_UNITS}-unit summary of the whole image given to every step; starts from a crnn-wide model`,
  head: 'ctc',
  defaultInput: { height: 64, width: 160, channels: 1 },
  extends: ['crnn-wide'],
  create: (options) => createCrnnNet({ ...options, filters: CRNN_WIDE_FILTERS, globalContext: CRNN_CONTEXT_UNITS }),
});
