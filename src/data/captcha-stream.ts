/**
 * An endless source of fresh CAPTCHA batches, generated ahead of time in worker threads so that
 * training never waits for data. Batch k holds images `k*B ... k*B+B-1` of the seeded sequence,
 * so the stream is deterministic whatever the timing or number of workers.
 */
import * as os from 'os';
import { CAPTCHA_VERSIONS, createRng, deriveSeed, type CaptchaVersion, type RandomSource, type ImageCaptchaOptions, type RandomTextOptions, type Seed } from '../captcha';
import { createGeneratorSpec, generateBatch, ItemGenerator, variantGenerator, workerScript, type BatchVariant, type GeneratorSpec } from './generation';
import type { WorkerInit, WorkerReply, WorkerRequest } from './generator-worker';
import { startOrderedWorkerPool } from './worker-pool';
import { withDefaults } from '../options';

export interface CaptchaStreamOptions {
  /** Images per batch. @default 32 */
  batchSize?: number;
  /** Seed of the whole sequence. @default 0 */
  seed?: Seed;
  /** Generator options. @default {} (lepture's defaults) */
  captcha?: ImageCaptchaOptions;
  /** Texts; `length: [min, max]` gives variable-length texts (CTC models). @default 4 distinct characters of 0-9A-Z */
  text?: RandomTextOptions;
  /** Worker threads; 0 generates on the calling thread inside `next()`. @default max(1, cores - 1) */
  workers?: number;
  /** Batches generated ahead of the one being consumed. @default 2 * workers (at least 1) */
  prefetch?: number;
  /** Index of the first batch (to continue a sequence). @default 0 */
  startBatch?: number;
  /**
   * Several lepture versions and image sizes in one stream: each batch is drawn by one version at
   * one size, both picked from the batch's seed. Replaces `captcha.version`, `width` and `height`.
   */
  mix?: CaptchaMix;
}

/** Lepture versions and image sizes to draw from, each uniformly (sizes: inclusive ranges, px). */
export interface CaptchaMix {
  versions: readonly CaptchaVersion[];
  width: readonly [number, number];
  height: readonly [number, number];
}

/** Checks a mix, naming the bad part and the fix. */
export function checkCaptchaMix(mix: CaptchaMix): CaptchaMix {
  if (!Array.isArray(mix.versions) || mix.versions.length === 0) {
    throw new Error(`mix versions must list at least one of ${CAPTCHA_VERSIONS.join(', ')}`);
  }
  for (const v of mix.versions) {
    if (!CAPTCHA_VERSIONS.includes(v)) throw new Error(`mix version '${v}' is not one of ${CAPTCHA_VERSIONS.join(', ')}`);
  }
  for (const key of ['width', 'height'] as const) {
    const r = mix[key];
    if (!Array.isArray(r) || r.length !== 2 || !r.every((v) => Number.isSafeInteger(v) && v >= 8) || r[0] > r[1]) {
      throw new Error(`mix ${key} must be [min, max] in whole pixels, 8 or more, min <= max (e.g. [140, 170]), got ${JSON.stringify(r)}`);
    }
  }
  return mix;
}

/** The version and size of batch `k` of a mixed stream: a pure function of the seed and `k`. */
export function mixVariant(mix: CaptchaMix, seed: Seed, k: number): { version: CaptchaVersion; width: number; height: number } {
  return drawMixVariant(mix, createRng(deriveSeed(`${seed}/mix`, k)));
}

/** A version and a size of `mix`, each uniform, drawn from `rng` in that order (version, width, height). */
export function drawMixVariant(mix: CaptchaMix, rng: RandomSource): { version: CaptchaVersion; width: number; height: number } {
  const version = rng.choice(mix.versions);
  const width = mix.width[0] + rng.randbelow(mix.width[1] - mix.width[0] + 1);
  const height = mix.height[0] + rng.randbelow(mix.height[1] - mix.height[0] + 1);
  return { version, width, height };
}

export const DEFAULT_CAPTCHA_STREAM_OPTIONS = {
  batchSize: 32,
  seed: 0 as Seed,
  captcha: {} as ImageCaptchaOptions,
  text: {} as RandomTextOptions,
  startBatch: 0,
};

/** One batch of images. */
export interface CaptchaBatch {
  /** uint8 RGB, `[batchSize, height, width, 3]` row-major. */
  pixels: Uint8Array;
  /** Text of each image. */
  texts: string[];
  batchSize: number;
  height: number;
  width: number;
  /** Which batch of the sequence this is. */
  index: number;
}

export interface CaptchaStream extends AsyncIterable<CaptchaBatch> {
  /** The next batch (in order: 0, 1, 2, ... from `startBatch`). */
  next(): Promise<CaptchaBatch>;
  /** Stops the workers. The stream cannot be used afterwards. */
  close(): Promise<void>;
  /** Settings in effect (glyphs excluded). */
  readonly spec: Omit<GeneratorSpec, 'atlas'>;
  readonly batchSize: number;
}

function checkNonNegInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Starts a stream. Close it when done, or the worker threads keep the process alive.
 *
 * ```ts
 * const stream = createCaptchaStream({ batchSize: 64, seed: 7 });
 * const { pixels, texts } = await stream.next();
 * await stream.close();
 * ```
 */
export function createCaptchaStream(options: CaptchaStreamOptions = {}): CaptchaStream {
  const o = withDefaults(DEFAULT_CAPTCHA_STREAM_OPTIONS, options);
  const batchSize = checkNonNegInt('batchSize', o.batchSize, 1);
  const startBatch = checkNonNegInt('startBatch', o.startBatch, 0);
  const workers = checkNonNegInt('workers', o.workers ?? Math.max(1, os.availableParallelism() - 1), 0);
  const prefetch = checkNonNegInt('prefetch', o.prefetch ?? Math.max(1, 2 * workers), 1);
  const mix = o.mix ? checkCaptchaMix(o.mix) : undefined;
  // One spec per version (their fonts differ); a batch of a mix names its spec and size.
  const versions = mix ? [...new Set(mix.versions)] : [];
  const variantSpecs = versions.map((version) => createGeneratorSpec(o.seed, { ...o.captcha, version }, o.text));
  const spec = variantSpecs[0] ?? createGeneratorSpec(o.seed, o.captcha, o.text);
  const variantOf = (k: number): BatchVariant | undefined => {
    if (!mix) return undefined;
    const { version, width, height } = mixVariant(mix, o.seed, k);
    return { spec: versions.indexOf(version), width, height };
  };
  const sizeOf = (k: number): { width: number; height: number } => {
    const { width, height } = variantOf(k) ?? spec.captcha;
    return { width, height };
  };
  const { atlas: _atlas, ...publicSpec } = spec;

  const localGenerators = new Map<string, ItemGenerator>();
  const local = workers === 0 ? (k: number) => variantGenerator(localGenerators, spec, variantSpecs, variantOf(k)) : null;
  const init: WorkerInit = { captchaLabGenerator: true, spec, variants: mix ? variantSpecs : undefined };
  const pool =
    workers > 0
      ? startOrderedWorkerPool<Extract<WorkerReply, { type: 'batch' }>>({
          script: workerScript(),
          workerData: init,
          workers,
          prefetch,
          first: startBatch,
          request: (k) => ({ type: 'batch', k, start: k * batchSize, size: batchSize, variant: variantOf(k) }) satisfies WorkerRequest,
          name: 'generator',
        })
      : null;
  let nextK = startBatch; // drawn on this thread (no workers)
  let closed = false;

  const stream: CaptchaStream = {
    spec: publicSpec,
    batchSize,
    async next(): Promise<CaptchaBatch> {
      if (closed) throw new Error('the captcha stream is closed; create a new one with createCaptchaStream()');
      if (local) {
        const k = nextK++;
        const { pixels, texts } = generateBatch(local(k), k * batchSize, batchSize);
        return { pixels, texts, batchSize, ...sizeOf(k), index: k };
      }
      const { k, pixels, texts } = await pool!.next();
      return { pixels, texts, batchSize, ...sizeOf(k), index: k };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool?.close(new Error('the captcha stream was closed'));
    },
    async *[Symbol.asyncIterator](): AsyncIterator<CaptchaBatch> {
      while (!closed) yield await stream.next();
    },
  };
  return stream;
}
