/**
 * Worker thread for datasets and streams. It receives the glyph atlas in `workerData`, so it never
 * touches fonts; dataset workers load node-canvas only to encode files (the main thread has
 * loaded it first, see loadCanvas).
 *
 * Messages in:  {type:'files', indices}  -> writes `<i>.<ext>` for each, replies {type:'written', count}
 *               {type:'batch', k, start, size, variant?} -> replies {type:'batch', k, pixels, texts} (pixels transferred)
 *               {type:'close'} -> closes its port after the requests before it, so the thread ends by itself
 * Errors are replied as {type:'error', message}.
 */
import { parentPort, workerData } from 'worker_threads';
import type { ImageFormat } from '../captcha';
import { generateBatch, ItemGenerator, variantGenerator, writeItem, type BatchVariant, type GeneratorSpec } from './generation';

export interface WorkerInit {
  /** Marks a worker started by us (the module may be loaded elsewhere inside other workers). */
  captchaLabGenerator: true;
  spec: GeneratorSpec;
  /** Mixed streams: one spec per version; each batch request names its variant. */
  variants?: GeneratorSpec[];
  /** Dataset runs only. */
  out?: string;
  format?: ImageFormat;
  quality?: number;
}

export type WorkerRequest =
  | { type: 'files'; indices: number[] }
  | { type: 'batch'; k: number; start: number; size: number; variant?: BatchVariant }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'written'; count: number }
  | { type: 'batch'; k: number; pixels: Uint8Array; texts: string[] }
  | { type: 'error'; message: string };

const init = workerData as WorkerInit | undefined;
if (parentPort && init?.captchaLabGenerator) {
  const port = parentPort;
  const gen = new ItemGenerator(init.spec);
  const variants = new Map<string, ItemGenerator>();
  port.on('message', (msg: WorkerRequest) => {
    try {
      if (msg.type === 'close') {
        port.close();
      } else if (msg.type === 'files') {
        for (const i of msg.indices) writeItem(gen, i, init.out!, init.format!, init.quality!);
        port.postMessage({ type: 'written', count: msg.indices.length } satisfies WorkerReply);
      } else {
        const source = msg.variant ? variantGenerator(variants, init.spec, init.variants ?? [], msg.variant) : gen;
        const { pixels, texts } = generateBatch(source, msg.start, msg.size);
        port.postMessage({ type: 'batch', k: msg.k, pixels, texts } satisfies WorkerReply, [pixels.buffer]);
      }
    } catch (err) {
      port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies WorkerReply);
    }
  });
}
