/**
 * Generator throughput (160x60, 4 characters, default options), as wall-clock images/s and as
 * images per CPU-second of this process (all its threads): on a shared machine the second is the
 * steadier measure of cost per core. Each in-process case is the best of 3 runs.
 *   - one core, in-process: generateImage (text + image from a per-image seed), both versions;
 *   - one core, in-process: generateImage + JPEG encode;
 *   - all cores: the streaming source (worker threads, pixels only, no disk);
 *   - all cores: writeDataset to a temporary folder (JPEG files on disk).
 * For comparison, lepture/captcha 0.7.1 itself (Python, Pillow 9.4 or 12.3) made 770-785 images per
 * CPU-second here (generate_image only; see docs/generator.md, "Throughput", for how it was measured).
 *
 *   npm run bench:generate [-- --seconds 3]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encode } from '../src/captcha';
import { createCaptchaStream, writeDataset } from '../src/data';
import { createGeneratorSpec, ItemGenerator } from '../src/data/generation';

function parseArgs(argv: string[]): { seconds: number } {
  let seconds = 2;
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--seconds') seconds = Number(argv[i + 1]);
    else throw new Error(`unknown argument '${argv[i]}'; use --seconds N`);
  }
  if (!(seconds > 0)) throw new Error(`--seconds must be a positive number, got ${seconds}`);
  return { seconds };
}

interface Row {
  case: string;
  threads: number;
  images: number;
  seconds: number;
  cpuSeconds: number;
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

/** Runs `step` (one image per call) for about `seconds`, after a warm-up; best of 3 runs. */
function timeLoop(seconds: number, step: (i: number) => void): { images: number; seconds: number; cpuSeconds: number } {
  for (let i = 0; i < 300; i++) step(i); // JIT warm-up
  let best = { images: 0, seconds: 1, cpuSeconds: 1 };
  let i = 300;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let n = 0;
    while (performance.now() - t0 < (seconds * 1000) / 3) {
      step(i++);
      n++;
    }
    const r = { images: n, seconds: (performance.now() - t0) / 1000, cpuSeconds: cpuSince(c0) };
    if (r.images / r.seconds > best.images / best.seconds) best = r;
  }
  return best;
}

async function main(): Promise<void> {
  const { seconds } = parseArgs(process.argv.slice(2));
  const cores = os.availableParallelism();
  const rows: Row[] = [];
  const report = (r: Row): void => {
    rows.push(r);
    console.log(
      `${r.case}: ${(r.images / r.seconds).toFixed(0)} images/s, ${(r.images / r.cpuSeconds).toFixed(0)} images per CPU-second ` +
        `(${r.images} images in ${r.seconds.toFixed(2)} s, ${r.threads} thread(s))`,
    );
  };

  // 1. One core, pixels only.
  for (const version of ['0.7.0', '0.7.1'] as const) {
    const gen = new ItemGenerator(createGeneratorSpec(1, { version }));
    report({ case: `generateImage, v${version}, 1 core`, threads: 1, ...timeLoop(seconds, (i) => gen.item(i)) });
  }
  // 2. One core, pixels + JPEG.
  const gen = new ItemGenerator(createGeneratorSpec(1, {}));
  report({ case: 'generateImage + JPEG encode, 1 core', threads: 1, ...timeLoop(seconds, (i) => encode(gen.item(i).image, 'jpg')) });

  // 3. All cores: stream batches of 64 from `cores` workers.
  const stream = createCaptchaStream({ batchSize: 64, seed: 1, workers: cores, prefetch: 2 * cores });
  for (let i = 0; i < cores * 2; i++) await stream.next(); // workers started and warm
  let n = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < seconds * 1000) n += (await stream.next()).batchSize;
  const streamSeconds = (performance.now() - t0) / 1000;
  const streamCpu = cpuSince(c0);
  await stream.close();
  report({ case: `stream (worker threads, no disk), ${cores} cores`, threads: cores, images: n, seconds: streamSeconds, cpuSeconds: streamCpu });

  // 4. All cores: dataset files on disk.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'captcha-bench-'));
  try {
    const count = Math.max(1000, Math.round((rows[3].images / rows[3].seconds) * seconds));
    const c0 = process.cpuUsage();
    const r = await writeDataset({ out: path.join(dir, 'ds'), count, seed: 1, workers: cores });
    report({ case: `writeDataset (JPEG files), ${cores} cores`, threads: cores, images: r.generated, seconds: r.seconds, cpuSeconds: cpuSince(c0) });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  console.log(`\n| case | threads | images/s (wall) | images per CPU-second |\n|---|---|---|---|`);
  for (const r of rows) {
    console.log(`| ${r.case} | ${r.threads} | ${(r.images / r.seconds).toFixed(0)} | ${(r.images / r.cpuSeconds).toFixed(0)} |`);
  }
  const load = os.loadavg()[0].toFixed(2);
  console.log(`\n(Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, load average ${load})`);
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
