/**
 * Worker threads that answer numbered requests ahead of time, handed out in order: what the CAPTCHA
 * stream and the 0/O window stream share. Request k always goes to worker k mod n, and each worker
 * answers in order, so what request k gets does not depend on the timing or the number of workers.
 */
import { Worker } from 'worker_threads';
import { stopWorker } from './worker-stop';

/** What a pool's workers send back: the answer to request `k`, or an error. */
export type PoolReply = { type: 'error'; message: string } | { type: string; k: number };

export interface OrderedWorkerPoolOptions {
  /** The compiled worker module. */
  script: string;
  workerData: unknown;
  /** Worker threads, 1 or more. */
  workers: number;
  /** Requests answered ahead of the one being taken, 1 or more. */
  prefetch: number;
  /** The first request `next()` takes. */
  first: number;
  /** The message that asks a worker for request k. */
  request: (k: number) => unknown;
  /** What its workers are called in errors, e.g. 'generator'. */
  name: string;
}

export interface OrderedWorkerPool<R> {
  /** The answer to the next request, in order from `first`; rejects with the pool's first failure. */
  next(): Promise<R>;
  /** Rejects what is still awaited with `reason`, and ends the workers. */
  close(reason: Error): Promise<void>;
}

export function startOrderedWorkerPool<R extends PoolReply>(options: OrderedWorkerPoolOptions): OrderedWorkerPool<R> {
  const { script, workerData, workers, prefetch, request, name } = options;
  const pool = Array.from({ length: workers }, () => new Worker(script, { workerData }));
  let nextK = options.first;
  let requested = options.first; // requests sent to workers: [nextK, requested)
  let closed = false;
  let failure: Error | null = null;
  // Requests asked of workers: `waiting` until a worker answers, `ready` (as promises) until next() takes them.
  // Two maps because the lifetimes differ: next() often takes a request before its worker answers.
  const waiting = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();
  const ready = new Map<number, Promise<R>>();

  const failAll = (err: Error): void => {
    failure = failure ?? err;
    for (const p of waiting.values()) p.reject(failure);
    waiting.clear();
  };
  for (const w of pool) {
    w.on('message', (m: R) => {
      if (m.type === 'error') return failAll(new Error((m as { message: string }).message));
      const k = (m as { k: number }).k;
      waiting.get(k)?.resolve(m);
      waiting.delete(k);
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => {
      if (!closed && code !== 0) failAll(new Error(`a ${name} worker exited with code ${code}`));
    });
  }
  const ask = (k: number): void => {
    const promise = new Promise<R>((resolve, reject) => waiting.set(k, { resolve, reject }));
    promise.catch(() => undefined); // rejections surface through next()
    ready.set(k, promise);
    pool[k % pool.length].postMessage(request(k));
  };
  const topUp = (): void => {
    while (!failure && requested < nextK + prefetch) ask(requested++);
  };
  topUp();

  return {
    async next() {
      if (failure) throw failure;
      const k = nextK++;
      topUp();
      const p = ready.get(k);
      if (!p) throw failure ?? new Error(`request ${k} was not made`);
      ready.delete(k);
      return p;
    },
    async close(reason) {
      if (closed) return;
      closed = true;
      failAll(reason);
      await Promise.all(pool.map((w) => stopWorker(w)));
    },
  };
}
