/**
 * Renders the accuracy-versus-training-time curves of finished runs (run.json `curve`) to a PNG
 * for docs/pretrained.md, with the same plotly figure the notebooks show, drawn by headless Chromium.
 *
 *   node dist/scripts/curve-png.js [--out docs/accuracy-vs-time.png] [--title T] [--y-min 0.9] <label>=<run dir>[@<minutes>] ...
 *   e.g. crnn=models/pretrained seed=models/seed-replication
 * `@<minutes>` starts a run's curve that late: a run fine-tuned from another starts where that one ended.
 * `--y-min` starts the accuracy axis there (a fraction), to show runs that differ by tenths of a point.
 */
import * as fs from 'fs';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { writeFileAtomic } from '../src/files';
import { readRunRecord } from '../src/train/run-record';
import { accuracyOverTimeFigure } from '../src/viz';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  const out = outIndex >= 0 ? args.splice(outIndex, 2)[1] : path.join('docs', 'accuracy-vs-time.png');
  const titleIndex = args.indexOf('--title');
  const title = titleIndex >= 0 ? args.splice(titleIndex, 2)[1] : 'Whole-image accuracy on held-out images vs. training time (2 CPU cores)';
  const yMinIndex = args.indexOf('--y-min');
  const yMinText = yMinIndex >= 0 ? args.splice(yMinIndex, 2)[1] : '0';
  const yMin = Number(yMinText);
  if (!(yMin >= 0 && yMin < 1)) throw new Error(`--y-min must be a fraction from 0 to below 1 (e.g. 0.9), got '${yMinText}'`);
  if (args.length === 0) throw new Error('usage: curve-png [--out file.png] [--title T] [--y-min F] <label>=<run dir>[@<minutes>] ...');
  const series = args.map((arg) => {
    const m = /^([^=]+)=(.+?)(?:@(\d+(?:\.\d+)?))?$/.exec(arg);
    if (!m) throw new Error(`'${arg}': pass <label>=<run dir>[@<start minutes>] of a trained run`);
    const [, name, dir, start] = m;
    const offset = start === undefined ? 0 : Number(start);
    const run = readRunRecord(dir);
    if (!run.curve?.length) throw new Error(`${path.join(dir, 'run.json')} has no curve points; train with --curve-every-minutes`);
    // a run from scratch starts at 0%; a fine-tuned one at its first measured point
    const points = run.curve.map((p) => ({ ...p, minutes: p.minutes + offset }));
    return { name, points: offset === 0 ? [{ minutes: 0, wholeAccuracy: 0 }, ...points] : points };
  });
  const figure = accuracyOverTimeFigure(series, { title, yMin });
  const plotly = fs.readFileSync(require.resolve('plotly.js-dist-min'), 'utf8');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 420 } });
    await page.setContent(`<html><body style="margin:0"><div id="plot"></div><script>${plotly}</script></body></html>`);
    await page.evaluate((fig) => {
      const w = globalThis as unknown as { Plotly: { newPlot: (el: string, data: unknown, layout: unknown, cfg: unknown) => Promise<void> } };
      return w.Plotly.newPlot('plot', fig.data, { ...fig.layout, width: 900, height: 420 }, { staticPlot: true });
    }, figure as unknown as { data: unknown; layout: Record<string, unknown> });
    await page.waitForSelector('.main-svg');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    writeFileAtomic(out, await page.locator('#plot').screenshot()); // a committed figure: never left half-written
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
