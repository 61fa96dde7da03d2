/**
 * Worker thread of `createRoundGlyphStream`: draws batches of the 0/O reader's windows
 * (`roundGlyphsInCaptchas`) so that the thread that trains does not.
 *
 * Messages in:  {type:'windows', k, drawing, first, count} -> replies {type:'windows', k, crops, labels} (transferred)
 *               {type:'close'} -> closes its port after the requests before it, so the thread ends by itself
 * Errors are replied as {type:'error', message}.
 */
import { parentPort, workerData } from 'worker_threads';
import type { Seed } from '../captcha';
import { roundGlyphsInCaptchas, type RoundGlyphDrawing } from './glyph-separability';

export interface RoundGlyphWorkerInit {
  /** Marks a worker started by `createRoundGlyphStream`. */
  captchaLabRoundGlyphs: true;
  seed: Seed;
}

export type RoundGlyphWorkerRequest = { type: 'windows'; k: number; drawing: RoundGlyphDrawing; first: number; count: number } | { type: 'close' };

export type RoundGlyphWorkerReply = { type: 'windows'; k: number; crops: Uint8Array; labels: Uint8Array } | { type: 'error'; message: string };

const init = workerData as RoundGlyphWorkerInit | undefined;
if (parentPort && init?.captchaLabRoundGlyphs) {
  const port = parentPort;
  port.on('message', (msg: RoundGlyphWorkerRequest) => {
    if (msg.type === 'close') return port.close();
    try {
      const { crops, labels } = roundGlyphsInCaptchas(msg.drawing, init.seed, msg.first, msg.count);
      port.postMessage({ type: 'windows', k: msg.k, crops, labels } satisfies RoundGlyphWorkerReply, [crops.buffer, labels.buffer]);
    } catch (err) {
      port.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies RoundGlyphWorkerReply);
    }
  });
}
