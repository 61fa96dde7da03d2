/**
 * Every training hyperparameter in one typed, validated object. The defaults reproduce the
 * original experiment (the `seed` network, Adam with default settings, 3 epochs, 90/10 split);
 * the CLI flags, a JSON config file and the notebooks all fill in this same object.
 */
import { z } from 'zod';
import { CAPTCHA_SIDE, CAPTCHA_VERSIONS, isCaptchaSide } from '../captcha';
import { DEFAULT_ALPHABET } from '../models/charset';
import { INIT_SCHEMES } from '../models/init';
import { INPUT_FITS } from '../data/tensors';

export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;
export const SCHEDULES = ['constant', 'cosine', 'step'] as const;
export const DATA_SOURCES = ['folder', 'stream'] as const;

/** Why a run name was refused, and what to do instead. */
const RUN_NAME_RULE =
  "run name must be one folder name inside --models-dir: letters, digits, . _ - (not '.' or '..'); put any parent folder in --models-dir";

const positiveInt = (what: string) =>
  z.number({ invalid_type_error: `${what} must be a number` }).int(`${what} must be a whole number`).positive(`${what} must be > 0`);

/** `[min, max]` image pixels, as in a mix's width and height: within CAPTCHA_SIDE (8 to 4096). */
const pixelRange = (what: string) =>
  z
    .tuple([positiveInt(what), positiveInt(what)])
    .refine(
      ([min, max]) => min <= max && isCaptchaSide(min) && isCaptchaSide(max),
      `${what} must be [min, max] in pixels, ${CAPTCHA_SIDE.min} <= min <= max <= ${CAPTCHA_SIDE.max}`,
    );

export const TrainConfigSchema = z
  .object({
    /** Run name: the run is saved to `<modelsDir>/<run>/`. */
    run: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, RUN_NAME_RULE)
      // '.' and '..' pass the character rule but name --models-dir itself or its parent
      .refine((name) => name !== '.' && name !== '..', RUN_NAME_RULE),
    /** Where runs are saved. */
    modelsDir: z.string().min(1),
    /** Registry name of the architecture (`seed`, ...). */
    model: z.string().min(1),
    /** Input size; unset means the architecture's default (seed: 80x170x3). */
    height: positiveInt('height').optional(),
    width: positiveInt('width').optional(),
    channels: z.union([z.literal(1), z.literal(3)], { errorMap: () => ({ message: 'channels must be 1 or 3' }) }).optional(),
    /** How images of another size are fitted to the input (src/data/tensors); unset: stretch. Saved with the model. */
    fit: z.enum(INPUT_FITS).optional(),
    /** Classes, in label-index order. */
    alphabet: z.string().min(2, 'alphabet needs at least 2 characters'),
    /** Characters per CAPTCHA (the stream's text length; per-position models have one head each). */
    length: positiveInt('length'),
    /** With the stream and a CTC model: texts of minLength..length characters. */
    minLength: positiveInt('min length').optional(),
    /** `folder`: a generated dataset; `stream`: fresh images from the generator every epoch. */
    source: z.enum(DATA_SOURCES),
    /** Dataset folder (source folder). */
    dataDir: z.string().optional(),
    /** Use only the first N images of the folder (dataset size); unset means all. */
    datasetSize: positiveInt('dataset size').optional(),
    /** Resize folder images to the model input instead of refusing another size. */
    resize: z.boolean(),
    /** Fresh training images per epoch (source stream). */
    imagesPerEpoch: positiveInt('images per epoch'),
    /** Fixed validation images generated once (source stream). */
    validationImages: positiveInt('validation images'),
    /** Generator algorithm for stream data. */
    captchaVersion: z.enum(CAPTCHA_VERSIONS),
    /**
     * Stream data of several versions and sizes: each batch drawn by one of `versions` at a width
     * and height from the inclusive ranges, then fitted to the model input (`fit`) as predict fits files.
     */
    mix: z
      .object({
        versions: z.array(z.enum(CAPTCHA_VERSIONS)).min(1, 'mix versions must list at least one version'),
        width: pixelRange('mix width'),
        height: pixelRange('mix height'),
      })
      .strict()
      .optional(),
    /** A saved model folder (same architecture and input) whose weights start the run instead of a fresh initialisation. */
    initFrom: z.string().min(1).optional(),
    /**
     * Layers (by name) whose trained weights stay as `initFrom` left them (a batch norm's moving
     * mean and variance still track the batches). No gradient flows through a frozen front of the
     * network, so a step costs little more than its forward pass there: a way to train new layers
     * on top of a trained network in a fraction of the time.
     */
    freeze: z.array(z.string().min(1)).optional(),
    /** Fraction of a folder dataset held out for validation/test (0.1 = the original 90/10). */
    validationSplit: z.number().gt(0, 'validation split must be > 0').lt(1, 'validation split must be < 1'),
    epochs: positiveInt('epochs'),
    batchSize: positiveInt('batch size'),
    optimizer: z.enum(OPTIMIZERS),
    learningRate: z.number().positive('learning rate must be > 0').max(10, 'learning rate above 10 is surely a typo'),
    /** Adam's decay rates of the first and second moment; unset means tfjs's 0.9 and 0.999. */
    beta1: z.number().min(0, 'beta1 must be in [0, 1)').lt(1, 'beta1 must be in [0, 1)').optional(),
    beta2: z.number().min(0, 'beta2 must be in [0, 1)').lt(1, 'beta2 must be in [0, 1)').optional(),
    /** Adam's and RMSprop's epsilon; unset means the backend's (1e-7 on tfjs-node). */
    epsilon: z.number().positive('epsilon must be > 0').max(1, 'epsilon above 1 is surely a typo').optional(),
    /** Weight initialisation (seed and seed-bn: mathematica, he, glorot; src/models/init.ts); unset means the model's own. */
    init: z.enum(INIT_SCHEMES).optional(),
    /** Learning-rate schedule over all steps: constant, cosine decay to minLearningRate, or x0.1 at 50% and 75%. */
    schedule: z.enum(SCHEDULES),
    /** Linear warm-up steps at the start of the schedule. */
    warmupSteps: z.number().int().min(0),
    minLearningRate: z.number().min(0),
    /** Seed of the split, the shuffles, weight initialisation, dropout masks and the stream. */
    seed: z.number().int().min(0),
    /** Generator worker threads for the stream (0 = all cores but one). */
    workers: z.number().int().min(0),
    /** Every N minutes of training, score the first `curveImages` validation images (0 = off): the accuracy-vs-time curve. */
    curveEveryMinutes: z.number().min(0),
    curveImages: positiveInt('curve images'),
    /** Every N steps, count the last convolution's ReLU units that fire on fixed training images (0 = off; src/train/plateau.ts). */
    plateauProbeEvery: z.number().int().min(0),
    /** Fixed training images of that probe. */
    plateauProbeImages: positiveInt('plateau probe images'),
    /** Steps with no unit firing on the probe images after which the run is declared stuck. */
    stuckAfterSteps: positiveInt('stuck after steps'),
  })
  .strict();

export type TrainConfig = z.infer<typeof TrainConfigSchema>;

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  run: 'run',
  modelsDir: 'models',
  model: 'seed',
  alphabet: DEFAULT_ALPHABET,
  length: 4,
  source: 'folder',
  dataDir: 'data/captchas',
  resize: false,
  imagesPerEpoch: 46080,
  validationImages: 2048,
  captchaVersion: '0.7.0',
  validationSplit: 0.1,
  epochs: 3,
  batchSize: 32,
  optimizer: 'adam',
  learningRate: 0.001,
  schedule: 'constant',
  warmupSteps: 0,
  minLearningRate: 0,
  seed: 1,
  workers: 0,
  curveEveryMinutes: 0,
  curveImages: 1000,
  plateauProbeEvery: 20,
  plateauProbeImages: 128,
  stuckAfterSteps: 100,
};

/**
 * Defaults <- JSON config <- explicit overrides, validated. Errors list every bad field with
 * its value, e.g. `invalid training config: batchSize: batch size must be > 0 (got -1)`.
 */
export function resolveTrainConfig(...layers: Array<Partial<Record<string, unknown>> | undefined>): TrainConfig {
  const merged: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer ?? {})) if (v !== undefined) merged[k] = v;
  }
  const parsed = TrainConfigSchema.safeParse(merged);
  if (!parsed.success) throw invalidConfig(parsed.error, merged);
  const config = parsed.data;
  if (config.minLength !== undefined && config.minLength > config.length) {
    throw new Error(`invalid training config: minLength ${config.minLength} exceeds length ${config.length}`);
  }
  if (config.mix && config.source !== 'stream') {
    throw new Error(`invalid training config: mix draws fresh images of several versions and sizes, but source is ${config.source}; use --source stream or drop the mix`);
  }
  const adamOnly = (['beta1', 'beta2'] as const).filter((k) => config[k] !== undefined && config.optimizer !== 'adam');
  if (adamOnly.length > 0) {
    throw new Error(`invalid training config: ${adamOnly.join(' and ')} set Adam's moments, but optimizer is ${config.optimizer}; use --optimizer adam or leave them out`);
  }
  if (config.epsilon !== undefined && config.optimizer === 'sgd') {
    throw new Error('invalid training config: epsilon is used by adam and rmsprop, not sgd; leave it out or change --optimizer');
  }
  if (config.source === 'folder' && !config.dataDir) {
    throw new Error('invalid training config: source folder needs dataDir (--data-dir)');
  }
  return config;
}

/** One error listing every problem zod found in `values`, each with its value. */
export function invalidConfig(error: z.ZodError, values: Record<string, unknown>): Error {
  const problems = error.issues.map((issue) => {
    const key = issue.path.join('.');
    if (issue.code === 'unrecognized_keys') {
      return `unknown setting(s) ${issue.keys.join(', ')}; known: ${Object.keys(DEFAULT_TRAIN_CONFIG).join(', ')}`;
    }
    // a nested setting (mix.width) is looked up along its path
    const value = issue.path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), values);
    return `${key}: ${issue.message} (got ${JSON.stringify(value)})`;
  });
  return new Error(`invalid training config: ${problems.join('; ')}`);
}

/** Command-line flags whose names differ from their config keys (flag in camelCase -> key). */
export const RENAMED_FLAGS: Readonly<Record<string, keyof TrainConfig>> = { valSplit: 'validationSplit', lr: 'learningRate', minLr: 'minLearningRate' };

/** The `train` flag that sets a config key, for messages: `dataDir` -> `--data-dir`, `learningRate` -> `--lr`. */
export function flagOf(key: string): string {
  if (key === 'mix') return '--mix-versions/--mix-width/--mix-height';
  const flag = Object.keys(RENAMED_FLAGS).find((f) => RENAMED_FLAGS[f] === key) ?? key;
  return `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Learning rate at `step` of `totalSteps` under the config's schedule. */
export function learningRateAt(config: TrainConfig, step: number, totalSteps: number): number {
  const { learningRate: lr, minLearningRate: lrMin, warmupSteps } = config;
  if (warmupSteps > 0 && step < warmupSteps) return (lr * (step + 1)) / warmupSteps;
  const t = totalSteps > warmupSteps ? (step - warmupSteps) / (totalSteps - warmupSteps) : 1;
  switch (config.schedule) {
    case 'constant':
      return lr;
    case 'cosine':
      return lrMin + 0.5 * (lr - lrMin) * (1 + Math.cos(Math.PI * Math.min(1, t)));
    case 'step':
      return lr * (t >= 0.75 ? 0.01 : t >= 0.5 ? 0.1 : 1);
    default: {
      const never: never = config.schedule;
      throw new Error(`unknown schedule ${String(never)}`);
    }
  }
}
