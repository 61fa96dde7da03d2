/**
 * Batches of the 0/O reader's windows (`roundGlyphsInCaptchas`) drawn ahead in worker threads,
 * for the window expert's training: drawing takes 2 ms a window on one core, a fifth of a training
 * step on two cores and most of one on a GPU. Batch k holds windows k x batchSize onwards, drawn as
 * `drawingOf(k)` says, so the windows are the same whatever the number of workers or the timing.
 */
import * as os from 'os';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { loadCanvas, type Seed } from '../captcha';
import { stopWorker } from '../data/worker-stop';
import { roundGlyphsInCaptchas, type RoundGlyphDrawing, type RoundGlyphWindows } from './glyph-separability';
import type { RoundGlyphWorkerInit, RoundGlyphWorkerReply, RoundGlyphWorkerRequest } from './round-glyph-worker';

export interface RoundGlyphStreamOptions {
  seed: Seed;
  batchSize: number;
  /** How batch k is drawn (plain data: it is sent to a worker). */
  drawingOf: (k: number) => RoundGlyphDrawing;
  /** The first batch `next()` returns (a resumed run's step). @default 0 */
  startBatch?: number;
  /** Worker threads; 0 draws on the calling thread inside `next()`. @default max(1, cores - 1) */
  workers?: number;
  /** Batches drawn ahead of the one being consumed. @default 2 x workers (at least 1) */
  prefetch?: number;
}

export interface RoundGlyphStream {
  /** The next batch, in order: k = startBatch, startBatch + 1, ... */
  next(): Promise<RoundGlyphWindows & { index: number }>;
  /** Stops the workers; the stream cannot be used afterwards. */
  close(): Promise<void>;
}

function wholeNumber(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`${name} must be a whole number >= ${min}, got ${v}`);
  return v;
}

/** Starts a stream. Close it when done, or its worker threads keep the process alive. */
export function createRoundGlyphStream(options: RoundGlyphStreamOptions): RoundGlyphStream {
  const batchSize = wholeNumber('batchSize', options.batchSize, 1);
  const startBatch = wholeNumber('startBatch', options.startBatch ?? 0, 0);
  const workers = wholeNumber('workers', options.workers ?? Math.max(1, os.availableParallelism() - 1), 0);
  const prefetch = wholeNumber('prefetch', options.prefetch ?? Math.max(1, 2 * workers), 1);
  const { seed, drawingOf } = options;
  let pool: Worker[] = [];
  if (workers > 0) {
    const script = path.join(__dirname, 'round-glyph-worker.js');
    if (!fs.existsSync(script)) throw new Error(`worker script '${script}' not found; build the project (npx tsc -p tsconfig.json) and run from dist/`);
    // Workers draw glyphs with node-canvas: the main thread must load it first (see loadCanvas).
    loadCanvas();
    const init: RoundGlyphWorkerInit = { captchaLabRoundGlyphs: true, seed };
    pool = Array.from({ length: workers }, () => new Worker(script, { workerData: init }));
  }
  let nextK = startBatch;
  let requested = startBatch;
  let closed = false;
  let failure: Error | null = null;
  const waiting = new Map<number, { resolve: (w: RoundGlyphWindows) => void; reject: (e: Error) => void }>();
  const ready = new Map<number, Promise<RoundGlyphWindows>>();
  const failAll = (err: Error): void => {
    failure = failure ?? err;
    for (const p of waiting.values()) p.reject(failure);
    waiting.clear();
  };
  for (const w of pool) {
    w.on('message', (m: RoundGlyphWorkerReply) => {
      if (m.type === 'error') return failAll(new Error(m.message));
      waiting.get(m.k)?.resolve({ crops: m.crops, labels: m.labels });
      waiting.delete(m.k);
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => {
      if (!closed && code !== 0) failAll(new Error(`a window worker exited with code ${code}`));
    });
  }
  const request = (k: number): void => {
    const promise = new Promise<RoundGlyphWindows>((resolve, reject) => waiting.set(k, { resolve, reject }));
    promise.catch(() => undefined); // rejections surface through next()
    ready.set(k, promise);
    pool[k % pool.length].postMessage({ type: 'windows', k, drawing: drawingOf(k), first: k * batchSize, count: batchSize } satisfies RoundGlyphWorkerRequest);
  };
  const topUp = (): void => {
    while (!failure && requested < nextK + prefetch) request(requested++);
  };
  if (pool.length > 0) topUp();
  return {
    async next() {
      if (closed) throw new Error('the window stream is closed; start another with createRoundGlyphStream()');
      if (failure) throw failure;
      const k = nextK++;
      if (pool.length === 0) return { ...roundGlyphsInCaptchas(drawingOf(k), seed, k * batchSize, batchSize), index: k };
      topUp();
      const windows = await ready.get(k)!;
      ready.delete(k);
      return { ...windows, index: k };
    },
    async close() {
      if (closed) return;
      closed = true;
      failAll(new Error('the window stream was closed'));
      await Promise.all(pool.map((w) => stopWorker(w)));
    },
  };
}
