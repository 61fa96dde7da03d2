import { strict as assert } from 'assert';
import { createRoundGlyphStream, roundGlyphsInCaptchas, type RoundGlyphDrawing } from '../../src/eval';

describe('createRoundGlyphStream (the window expert\'s windows, drawn ahead in workers)', function () {
  this.timeout(60000);
  const seed = 'round-glyph-stream/test';
  // A mix, as the expert trains on: the version and size change with the batch.
  const drawingOf = (k: number): RoundGlyphDrawing => ({ ...[{ version: '0.7.0' as const, width: 160, height: 60 }, { version: '0.2.2' as const, width: 140, height: 80 }][k % 2], jitter: 2 });
  const direct = (k: number) => roundGlyphsInCaptchas(drawingOf(k), seed, k * 4, 4);

  for (const workers of [0, 1, 2]) {
    it(`returns batch k as roundGlyphsInCaptchas draws windows 4k onwards, in order, with ${workers} worker(s), from a start batch`, async () => {
      const stream = createRoundGlyphStream({ seed, batchSize: 4, drawingOf, startBatch: 3, workers });
      try {
        for (const k of [3, 4, 5, 6]) {
          const batch = await stream.next();
          const expected = direct(k);
          assert.equal(batch.index, k);
          assert.deepEqual(batch.labels, expected.labels);
          assert.ok(Buffer.from(batch.crops).equals(Buffer.from(expected.crops)), `batch ${k}: other windows`);
        }
      } finally {
        await stream.close();
      }
      await assert.rejects(stream.next(), /the window stream is closed/);
    });
  }

  it('reports a drawing a worker cannot make, and refuses bad sizes', async () => {
    const stream = createRoundGlyphStream({ seed, batchSize: 2, drawingOf: () => ({ version: '0.7.0', width: 160, height: 60, jitter: -1 }), workers: 1 });
    try {
      await assert.rejects(stream.next(), /jitter must be a whole number of px >= 0, got -1/);
    } finally {
      await stream.close();
    }
    assert.throws(() => createRoundGlyphStream({ seed, batchSize: 0, drawingOf }), /batchSize must be a whole number >= 1, got 0/);
    assert.throws(() => createRoundGlyphStream({ seed, batchSize: 2, drawingOf, workers: 1.5 }), /workers must be a whole number >= 0, got 1.5/);
  });
});
