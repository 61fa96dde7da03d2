/**
 * Where a Node process spent its time on the host: the self time of a `node --cpu-prof` profile
 * (a .cpuprofile file), summed by source file and by function, largest first. Used to find the
 * host-side cost of a training step on the GPU machine (scripts/gpu/device-host-profile.sh), where
 * only small text files come back.
 *
 *   node dist/scripts/cpu-profile-summary.js <file.cpuprofile|folder> [--top 25]
 */
import * as fs from 'fs';
import * as path from 'path';

/** The parts of V8's .cpuprofile format this reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  /** Node id of each sample. */
  samples: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** [file, ms], largest first; node_modules paths shortened to the package's file. */
  byFile: Array<[string, number]>;
  /** [`function file:line`, ms], largest first. */
  byFunction: Array<[string, number]>;
}

/** `/x/node_modules/@tensorflow/tfjs-backend-webgpu/dist/a.js` -> `@tensorflow/tfjs-backend-webgpu/dist/a.js`. */
function shortUrl(url: string): string {
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  return url.replace(/^file:\/\//, '');
}

const sorted = (m: Map<string, number>): Array<[string, number]> => [...m].sort((a, b) => b[1] - a[1]);

/** Self time by file and by function (V8's own entries, e.g. `(garbage collector)`, as themselves). */
export function summarizeCpuProfile(profile: CpuProfile): ProfileSummary {
  if (!Array.isArray(profile?.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error('not a .cpuprofile (no nodes, samples and timeDeltas): write one with node --cpu-prof');
  }
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const byFile = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = frames.get(id);
    if (!frame) return;
    const file = frame.url ? shortUrl(frame.url) : frame.functionName || '(native)';
    const fn = `${frame.functionName || '(anonymous)'} ${frame.url ? `${file}:${frame.lineNumber + 1}` : ''}`.trim();
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    total += ms;
  });
  return { totalMs: total, byFile: sorted(byFile), byFunction: sorted(byFunction) };
}

/** Lines for the terminal: the total, then the top `top` files and functions with their share. */
export function formatProfileSummary(summary: ProfileSummary, top = 25): string[] {
  const line = ([name, ms]: [string, number]) => `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / (summary.totalMs || 1)).toFixed(1).padStart(5)}%  ${name}`;
  return [
    `total ${summary.totalMs.toFixed(0)} ms sampled`,
    'by file (self time):',
    ...summary.byFile.slice(0, top).map(line),
    'by function (self time):',
    ...summary.byFunction.slice(0, top).map(line),
  ];
}

function main(): void {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  if (args.length !== 1 || !(top > 0)) throw new Error('usage: cpu-profile-summary <file.cpuprofile|folder> [--top N]');
  const target = args[0];
  const files = fs.statSync(target).isDirectory()
    ? fs.readdirSync(target).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(target, f))
    : [target];
  if (files.length === 0) throw new Error(`no .cpuprofile in '${target}'; write one with node --cpu-prof --cpu-prof-dir ${target}`);
  for (const file of files) {
    console.log(`== ${file}`);
    for (const l of formatProfileSummary(summarizeCpuProfile(JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile), top)) console.log(l);
  }
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    process.exit(1);
  }
}
