/**
 * Ending the generator's worker threads (stream and dataset writer) without crashing Node.
 */
import type { Worker } from 'worker_threads';
import type { WorkerRequest } from './generator-worker';

/** How long a closing worker may take to finish the batches already asked of it before it is terminated. */
const WORKER_CLOSE_MS = 3000;

/**
 * Ends a generator worker by asking it to close its port, so that its thread ends by itself; it
 * is terminated only if it has not within WORKER_CLOSE_MS. Why not terminate() at once: Node 20
 * can abort the whole process (`NodePlatform::ForIsolate: Assertion failed`) when a worker is
 * terminated while V8 still compiles its code, as happened to streams opened and closed within
 * a second (the calibrate test). Used by the stream and the dataset writer.
 */
export async function stopWorker(worker: Worker): Promise<void> {
  if (worker.threadId < 0) return; // already ended
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.postMessage({ type: 'close' } satisfies WorkerRequest);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), WORKER_CLOSE_MS)));
  if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
  clearTimeout(timer);
}

