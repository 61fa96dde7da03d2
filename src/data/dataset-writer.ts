/**
 * Writes a CAPTCHA dataset folder in the experiment's layout: `0.jpg ... N-1.jpg` (or .png),
 * `labels.txt` (line i = text of image i) and `manifest.json` (how it was made). Image i comes
 * from its own seed, `deriveSeed(seed, i)`, so the result does not depend on the number of
 * workers, any image can be regenerated alone, and an interrupted run can be completed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import {
  checkFormat,
  DEFAULT_ENCODE_OPTIONS,
  loadCanvas,
  type ImageCaptchaOptions,
  type ImageFormat,
  type RandomTextOptions,
  type Seed,
} from '../captcha';
import { acquireFolderLock, createFolder, writeFileAtomic, writeFileAtomicFrom } from '../files';
import { createGeneratorSpec, GENERATOR_VERSION, ItemGenerator, workerScript, writeItem, type GeneratorSpec } from './generation';
import type { WorkerInit, WorkerReply, WorkerRequest } from './generator-worker';
import { isIntactImage } from './image-file';
import type { ImageHeader } from './image-format';
import { LABELS_FILE } from './labels';
import { withDefaults } from '../options';
import { stopWorker } from './worker-stop';

export interface WriteDatasetOptions {
  /** Dataset folder; created if missing. Must be empty, or hold a dataset made with the same options. */
  out: string;
  /** Number of images, at most {@link MAX_DATASET_IMAGES}. */
  count: number;
  /** Seed of the whole dataset. @default 0 */
  seed?: Seed;
  /** Image file format. @default 'jpg' */
  format?: ImageFormat;
  /** JPEG quality 1-100. @default 75 */
  quality?: number;
  /** Generator options (size, fonts, font sizes, version, character settings). @default {} (lepture's defaults) */
  captcha?: ImageCaptchaOptions;
  /** Texts: length, alphabet, uniqueness. @default { length: 4, alphabet: '0-9A-Z', unique: true } */
  text?: RandomTextOptions;
  /** Worker threads; 0 generates on the calling thread. @default os.availableParallelism() */
  workers?: number;
  /** Called as images are done (existing valid images count as done). */
  onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_WRITE_DATASET_OPTIONS = {
  seed: 0 as Seed,
  format: 'jpg' as ImageFormat,
  quality: DEFAULT_ENCODE_OPTIONS.quality,
  captcha: {} as ImageCaptchaOptions,
  text: {} as RandomTextOptions,
  workers: undefined as number | undefined,
};

export interface WriteDatasetResult {
  out: string;
  count: number;
  /** Images made by this call. */
  generated: number;
  /** Valid images already present (resumed run). */
  skipped: number;
  seconds: number;
  manifest: DatasetManifest;
}

/** `manifest.json`: everything that determines the dataset's bytes, plus bookkeeping. */
export interface DatasetManifest {
  generator: { name: 'captcha-lab ImageCaptcha'; version: number; lepture: string };
  seed: Seed;
  count: number;
  format: ImageFormat;
  quality: number;
  captcha: GeneratorSpec['captcha'];
  text: GeneratorSpec['text'];
  /** sha256 of each font file, in `captcha.fonts` order. */
  fontSha256: string[];
  /** false until every image has been written. */
  complete: boolean;
}

export const MANIFEST_FILE = 'manifest.json';

/**
 * Most images one dataset folder holds (10 million, ~22 GB of 160x60 JPEGs). Whoever reads the
 * folder (training, evaluation) lists its files and holds its labels in memory, and one folder
 * of more files than this strains the file system; above it, write several folders or train on
 * fresh CAPTCHAs (`train --source stream`). The writer itself streams the labels, so its memory
 * does not grow with the count.
 */
export const MAX_DATASET_IMAGES = 10_000_000;

/** The manifest fields that must match for a folder to be resumed, flattened to dotted paths. */
function identity(m: DatasetManifest): Record<string, string> {
  const { complete: _c, ...rest } = m;
  const out: Record<string, string> = {};
  const walk = (v: unknown, key: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, key ? `${key}.${k}` : k);
    } else {
      out[key] = JSON.stringify(v);
    }
  };
  walk(rest, '');
  return out;
}

function fontHashes(spec: GeneratorSpec): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const crypto = require('crypto') as typeof import('crypto');
  return spec.captcha.fonts.map((f) => {
    const p = typeof f === 'string' ? f : f.path;
    return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  });
}

/**
 * True when `file` is an intact image of the dataset: the format and size it should have, whole
 * (every PNG chunk's CRC, every JPEG Huffman code) and decodable. Our writes are atomic, so this
 * finds files damaged later (a disk error, a copy cut short, an edit) for a rerun to regenerate.
 */
function isIntactFile(file: string, expected: ImageHeader): boolean {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return false;
  }
  return isIntactImage(bytes, expected);
}

function checkCount(count: unknown): number {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1) {
    throw new Error(`count must be a positive integer, got ${typeof count === 'number' ? count : JSON.stringify(count)}; pass how many images to write, e.g. 1000`);
  }
  if (count > MAX_DATASET_IMAGES) {
    throw new Error(
      `count ${count} is more than one dataset folder holds (at most ${MAX_DATASET_IMAGES.toLocaleString('en-US')} images: ` +
        'training and evaluation read its file list and labels into memory); write several folders with different ' +
        'seeds, or train on fresh CAPTCHAs with `captcha-lab train --source stream`, which needs no folder',
    );
  }
  return count;
}

function checkWorkers(workers: unknown): number {
  if (typeof workers !== 'number' || !Number.isInteger(workers) || workers < 0) {
    throw new Error(`workers must be an integer >= 0 (0 = no worker threads), got ${JSON.stringify(workers)}`);
  }
  return workers;
}

/** Creates the folder and proves it writable before anything is written. */
function prepareFolder(out: string): void {
  if (typeof out !== 'string' || out.length === 0) {
    throw new Error(`out must be a folder path, got ${JSON.stringify(out)}`);
  }
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) {
    throw new Error(`'${out}' exists and is not a folder; pass a folder path for the dataset`);
  }
  try {
    createFolder(out);
    const probe = path.join(out, `.write-test.${process.pid}.tmp`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const where = e.path && path.resolve(e.path) !== path.resolve(out) ? ` at '${e.path}'` : '';
    throw new Error(`cannot write to dataset folder '${out}' (${e.code ?? e.message}${where}); choose a folder you can write to`);
  }
}

/** Reads and compares an existing manifest; throws when the folder holds something else. */
function checkExisting(out: string, manifest: DatasetManifest): boolean {
  const file = path.join(out, MANIFEST_FILE);
  if (!fs.existsSync(file)) {
    const foreign = fs.readdirSync(out).filter((f) => !f.startsWith('.'));
    if (foreign.length > 0) {
      throw new Error(
        `'${out}' is not empty (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', ...' : ''}) and has no ${MANIFEST_FILE}; ` +
          'choose a new or empty folder',
      );
    }
    return false;
  }
  let old: DatasetManifest;
  try {
    old = JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetManifest;
  } catch (err) {
    throw new Error(`'${file}' is not valid JSON (${(err as Error).message}); delete the folder or choose another one`);
  }
  const a = identity(old);
  const b = identity(manifest);
  const differs = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
  if (differs.length > 0) {
    const detail = differs
      .slice(0, 4)
      .map((k) => `${k}: ${a[k] ?? '(missing)'} there, ${b[k] ?? '(missing)'} now`)
      .join('; ');
    throw new Error(
      `'${out}' already holds a different dataset (manifest differs in ${detail}); ` +
        'use the same options to complete it, or choose another folder',
    );
  }
  return true;
}

/** Runs `indices` through a pool of workers, `chunk` at a time. */
async function runPool(init: WorkerInit, indices: number[], workers: number, onDone: (n: number) => void): Promise<void> {
  const chunk = Math.max(1, Math.min(64, Math.ceil(indices.length / (workers * 4))));
  const queue: number[][] = [];
  for (let i = 0; i < indices.length; i += chunk) queue.push(indices.slice(i, i + chunk));
  const script = workerScript();
  const pool = Array.from({ length: Math.min(workers, queue.length) }, () => new Worker(script, { workerData: init }));
  try {
    await Promise.all(
      pool.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              const next = queue.shift();
              if (next) w.postMessage({ type: 'files', indices: next } satisfies WorkerRequest);
              else resolve();
            };
            w.on('message', (m: WorkerReply) => {
              if (m.type === 'written') {
                onDone(m.count);
                feed();
              } else if (m.type === 'error') {
                queue.length = 0;
                reject(new Error(m.message));
              }
            });
            w.on('error', (err) => {
              queue.length = 0;
              reject(err);
            });
            w.on('exit', (code) => {
              if (code !== 0) reject(new Error(`a generator worker exited with code ${code}`));
            });
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((w) => stopWorker(w)));
  }
}

/** `labels.txt`'s content, 4096 lines a piece. */
function* labelLines(gen: ItemGenerator, count: number): Generator<string> {
  for (let start = 0; start < count; start += 4096) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(count, start + 4096); i++) lines.push(gen.text(i));
    yield lines.join('\n') + '\n';
  }
}

/**
 * Writes (or completes) a dataset folder. Takes a lock on it for the run: a second writer of the
 * same folder fails at once, naming this process.
 *
 * ```ts
 * await writeDataset({ out: 'data/train', count: 10000, seed: 1, onProgress: (d, t) => bar.update(d) });
 * ```
 */
export async function writeDataset(options: WriteDatasetOptions): Promise<WriteDatasetResult> {
  const t0 = performance.now();
  const o = withDefaults(DEFAULT_WRITE_DATASET_OPTIONS, options);
  const count = checkCount(o.count);
  const format = checkFormat(o.format);
  const workers = o.workers === undefined ? os.availableParallelism() : checkWorkers(o.workers);
  if (!Number.isInteger(o.quality) || o.quality < 1 || o.quality > 100) {
    throw new Error(`quality must be an integer 1-100, got ${JSON.stringify(o.quality)}`);
  }
  // 1. Check every option and render the glyphs before touching the folder.
  const spec = createGeneratorSpec(o.seed, o.captcha, o.text);
  const manifest: DatasetManifest = {
    generator: { name: 'captcha-lab ImageCaptcha', version: GENERATOR_VERSION, lepture: spec.captcha.version },
    seed: o.seed,
    count,
    format,
    quality: o.quality,
    captcha: spec.captcha,
    text: spec.text,
    fontSha256: fontHashes(spec),
    complete: false,
  };
  const out = o.out;
  prepareFolder(out);
  // One writer per folder: two runs with different options would mix their images under one manifest.
  const release = acquireFolderLock(out, 'generate');
  try {
    const { generated } = await fillFolder(out, spec, manifest, o.quality, workers, o.onProgress);
    // 4. Done: mark complete.
    const final = { ...manifest, complete: true };
    writeFileAtomic(path.join(out, MANIFEST_FILE), JSON.stringify(final, null, 2) + '\n');
    return { out, count, generated, skipped: count - generated, seconds: (performance.now() - t0) / 1000, manifest: final };
  } finally {
    release();
  }
}

/** Steps 2-3 of {@link writeDataset}, under the folder's lock: labels, then the images that need (re)writing. */
async function fillFolder(
  out: string,
  spec: GeneratorSpec,
  manifest: DatasetManifest,
  quality: number,
  workers: number,
  onProgress: WriteDatasetOptions['onProgress'],
): Promise<{ generated: number }> {
  const { count, format } = manifest;
  const resumed = checkExisting(out, manifest);

  // 2. Manifest and labels first: texts are drawn before images, so they need no pixels. The
  // labels are written as they are drawn, a block of lines at a time, never all in memory.
  const gen = new ItemGenerator(spec);
  if (!resumed) writeFileAtomic(path.join(out, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  writeFileAtomicFrom(path.join(out, LABELS_FILE), labelLines(gen, count));
  for (const f of fs.readdirSync(out)) {
    if (f.startsWith('.') && f.endsWith('.tmp')) fs.rmSync(path.join(out, f), { force: true }); // leftovers of a killed run
  }

  // 3. Images that are missing, incomplete or damaged (a resumed folder's images are decoded).
  const todo: number[] = [];
  const { width, height } = spec.captcha;
  for (let i = 0; i < count; i++) {
    if (!resumed || !isIntactFile(path.join(out, `${i}.${format}`), { format, width, height })) todo.push(i);
  }
  let done = count - todo.length;
  onProgress?.(done, count);
  const progress = (n: number): void => {
    done += n;
    onProgress?.(done, count);
  };
  if (workers === 0 || todo.length < 64) {
    for (const i of todo) {
      writeItem(gen, i, out, format, quality);
      progress(1);
    }
  } else {
    loadCanvas(); // the main thread must load the native module before workers use it
    await runPool({ captchaLabGenerator: true, spec, out, format, quality }, todo, workers, progress);
  }
  return { generated: todo.length };
}
