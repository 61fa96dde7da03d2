/**
 * Batches of the 0/O reader's windows (`roundGlyphsInCaptchas`) drawn ahead in worker threads,
 * for the window expert's training: drawing takes 2 ms a window on one core, a fifth of a training
 * step on two cores and most of one on a GPU. Batch k holds windows k x batchSize onwards, drawn as
 * `drawingOf(k)` says, so the windows are the same whatever the number of workers or the timing.
 */
import * as os from 'os';
import * as path from 'path';
import { loadCanvas, type Seed } from '../captcha';
import { workerScript } from '../data/generation';
import { startOrderedWorkerPool, type OrderedWorkerPool } from '../data/worker-pool';
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
  let pool: OrderedWorkerPool<Extract<RoundGlyphWorkerReply, { type: 'windows' }>> | null = null;
  if (workers > 0) {
    const script = workerScript(path.join(__dirname, 'round-glyph-worker.js'));
    // Workers draw glyphs with node-canvas: the main thread must load it first (see loadCanvas).
    loadCanvas();
    pool = startOrderedWorkerPool({
      script,
      workerData: { captchaLabRoundGlyphs: true, seed } satisfies RoundGlyphWorkerInit,
      workers,
      prefetch,
      first: startBatch,
      request: (k) => ({ type: 'windows', k, drawing: drawingOf(k), first: k * batchSize, count: batchSize }) satisfies RoundGlyphWorkerRequest,
      name: 'window',
    });
  }
  let nextK = startBatch; // drawn on this thread (no workers)
  let closed = false;
  return {
    async next() {
      if (closed) throw new Error('the window stream is closed; start another with createRoundGlyphStream()');
      if (!pool) {
        const k = nextK++;
        return { ...roundGlyphsInCaptchas(drawingOf(k), seed, k * batchSize, batchSize), index: k };
      }
      const { k, crops, labels } = await pool.next();
      return { crops, labels, index: k };
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool?.close(new Error('the window stream was closed'));
    },
  };
}
