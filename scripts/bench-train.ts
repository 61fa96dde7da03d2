/**
 * Training speed of the `bench` and `seed` networks with our library, side by side with Python
 * Keras on the same networks (scripts/keras_reference.py) in the same invocation.
 *
 *   npm run bench:train -- [--nets bench,seed] [--batches 32,128] [--steps N] [--groups 3]
 *                          [--plain | --compare] [--kernels reluGrad,...] [--no-keras] [--profile]
 *                          [--backend native|webgpu|...]
 *
 * On `--backend webgpu` the fast path is our webgpu kernels (src/backend/webgpu-kernels) on the
 * plain step, the plain path the backend's own kernels; Keras is skipped there (it runs on the CPU).
 *
 * A step is forward, loss, backward and Adam update on a fixed random batch (what Keras times too;
 * its `fit` also slices the batch from host memory). After warm-up, `--groups` groups of `--steps`
 * steps are timed and the median group's images/s is reported, as keras_reference.py reports the
 * median of its timed epochs. Runs one after another (never concurrently: 2 cores). The load
 * average is printed because other processes on the machine slow either side: compare ratios
 * measured in one run, and repeat a run whose figures look disturbed.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_ORDER, enableWebGpuFastKernels, parseBackendKind, selectBackend, WEBGPU_FAST_KERNEL_NAMES, type BackendKind } from '../src/backend';
import { webGpuFilterGradient } from '../src/backend/webgpu-kernels';
import { FUSED_KERNEL_NAMES, type FusedKernelName } from '../src/backend/fused';
import { createReportFolder } from '../src/cli/evaluate';
import { writeFileAtomic } from '../src/files';
import { createModel } from '../src/models';
import { createTrainStep, type DescribedTrainStep } from '../src/train/step';
import { formatKernelProfile, profileKernels } from './kernel-profile';
import { median } from './stats';

const ROOT = path.resolve(__dirname, '..', '..');
const NETS = ['bench', 'seed', 'seed-bn'] as const;
type Net = (typeof NETS)[number];
type Path = 'plain' | 'fast';

export interface BenchTrainOptions {
  /** Networks to time. @default ['bench', 'seed'] */
  nets: Net[];
  /** Batch sizes to time. @default [32, 128] */
  batches: number[];
  /** Timed steps per group; 0 picks enough for about `seconds` per group. @default 0 */
  steps: number;
  /** Timed groups per case (the median is reported). @default 3 */
  groups: number;
  /**
   * Rounds per case, each timing ours then Keras: the ratio reported is the median of the
   * per-round ratios, so both sides of a ratio ran close together in time. @default 1
   */
  rounds: number;
  /** Untimed steps first (graph set-up, allocator warm-up). @default 2 */
  warmup: number;
  /** Target seconds per timed group when `steps` is 0. @default 4 */
  seconds: number;
  /** Paths of ours to time: the fast one (default), the plain one (`--plain`), or both (`--compare`). */
  paths: Path[];
  /** Replacements for the fast path. @default all */
  kernels: FusedKernelName[];
  /** Run the Keras reference. @default true */
  keras: boolean;
  /** Python with tensorflow for the Keras reference. @default .venv/bin/python */
  python: string;
  /** keras_reference.py. @default scripts/keras_reference.py, else ../shared/bench/keras_reference.py */
  kerasScript: string;
  /** Batches per timed Keras epoch (its --steps). @default 8 */
  kerasSteps: number;
  /** Print the native ops of one step per case. @default false */
  profile: boolean;
  /** Also write the results as JSON to this file. */
  json?: string;
  /** Force a backend (default: the best available, as everywhere). */
  backend?: BackendKind;
}

function defaultKerasScript(): string {
  const candidates = [path.join(ROOT, 'scripts', 'keras_reference.py'), path.join(ROOT, '..', 'shared', 'bench', 'keras_reference.py')];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[candidates.length - 1];
}

export const DEFAULT_BENCH_TRAIN_OPTIONS: BenchTrainOptions = {
  nets: ['bench', 'seed'],
  batches: [32, 128],
  steps: 0,
  groups: 3,
  rounds: 1,
  warmup: 2,
  seconds: 4,
  paths: ['fast'],
  kernels: [...FUSED_KERNEL_NAMES],
  keras: true,
  python: path.join(ROOT, '.venv', 'bin', 'python'),
  kerasScript: defaultKerasScript(),
  kerasSteps: 8,
  profile: false,
};

function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!(n > 0 && Number.isFinite(n))) throw new Error(`--seconds ${v} must be a positive number of seconds`);
  return n;
}

function positiveInt(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} ${v} must be a whole number >= 0`);
    return n;
  };
}

function list<T extends string>(name: string, allowed: readonly T[]): (v: string) => T[] {
  return (v) => {
    const items = v.split(',').map((s) => s.trim()).filter(Boolean);
    for (const item of items) {
      if (!allowed.includes(item as T)) throw new Error(`--${name}: '${item}' is not one of ${allowed.join(', ')}`);
    }
    return items as T[];
  };
}

export function parseArgs(argv: string[]): BenchTrainOptions {
  const d = DEFAULT_BENCH_TRAIN_OPTIONS;
  const program = new Command()
    .name('bench-train')
    .description('training images/s of the bench and seed networks: ours (tfjs-node) vs Python Keras')
    .option('--nets <list>', `networks (${NETS.join(', ')})`, list('nets', NETS), d.nets)
    .option('--batches <list>', 'batch sizes', (v) => v.split(',').map((b) => positiveInt('batches')(b)), d.batches)
    .option('--steps <n>', 'timed steps per group (0: about --seconds per group)', positiveInt('steps'), d.steps)
    .option('--groups <n>', 'timed groups; the median group is reported', positiveInt('groups'), d.groups)
    .option('--rounds <n>', 'rounds of (ours, keras) per case; ratio = median of per-round ratios', positiveInt('rounds'), d.rounds)
    .option('--warmup <n>', 'untimed steps first', positiveInt('warmup'), d.warmup)
    .option('--seconds <s>', 'target seconds per group when --steps is 0', positiveSeconds, d.seconds)
    .option('--plain', 'time the plain path (fused kernels off) instead of the fast one')
    .option('--compare', 'time both the plain and the fast path (before/after in one run)')
    .option('--kernels <list>', 'replacements on the fast path', list('kernels', FUSED_KERNEL_NAMES), d.kernels)
    .option('--no-keras', 'skip the Keras reference')
    .option('--python <path>', 'Python with tensorflow for the Keras reference', d.python)
    .option('--keras-script <path>', 'keras_reference.py', d.kerasScript)
    .option('--keras-steps <n>', 'batches per timed Keras epoch', positiveInt('keras-steps'), d.kerasSteps)
    .option('--profile', 'print the native ops of one step per case')
    .option('--json <file>', 'also write the results as JSON')
    .option('--backend <kind>', `force a backend (${BACKEND_ORDER.join(', ')}); webgpu skips Keras`)
    .parse(argv);
  const o = program.opts();
  if (o.plain && o.compare) throw new Error('--plain and --compare exclude each other; --compare already times the plain path');
  if (o.groups < 1) throw new Error('--groups must be at least 1');
  if (o.rounds < 1) throw new Error('--rounds must be at least 1');
  if (o.batches.some((b: number) => b < 1)) throw new Error('--batches must all be at least 1');
  if (o.json) createReportFolder(o.json, '--json'); // now, not after minutes of timing
  return {
    ...d,
    nets: o.nets,
    batches: o.batches,
    steps: o.steps,
    groups: o.groups,
    rounds: o.rounds,
    warmup: o.warmup,
    seconds: o.seconds,
    paths: o.compare ? ['plain', 'fast'] : o.plain ? ['plain'] : ['fast'],
    kernels: o.kernels,
    keras: o.keras,
    python: o.python,
    kerasScript: o.kerasScript,
    kerasSteps: o.kerasSteps,
    profile: Boolean(o.profile),
    json: o.json,
    backend: parseBackendKind(o.backend),
  };
}

const load = () => os.loadavg()[0].toFixed(2);

async function stepOnce(step: DescribedTrainStep, xs: tf.Tensor4D, ys: tf.Tensor2D): Promise<void> {
  const r = step(xs, ys);
  // Reading the loss waits for the step to finish (on a GPU the ops would still be queued);
  // asynchronously, the only read the webgpu backend allows in Node.
  await r.loss.data();
  tf.dispose([r.loss, r.correct]);
}

/** Milliseconds per native op name over `f`, from the backend's by-name execution entry points. */
function profileNative(f: () => void): Array<{ op: string; ms: number; calls: number }> {
  const backend = tf.backend() as unknown as Record<'executeSingleOutput' | 'executeMultipleOutputs', (name: string, ...rest: unknown[]) => unknown>;
  const totals = new Map<string, { ms: number; calls: number }>();
  const wrap = (orig: (name: string, ...rest: unknown[]) => unknown) =>
    function (this: unknown, name: string, ...rest: unknown[]) {
      const t0 = process.hrtime.bigint();
      try {
        return orig.call(this, name, ...rest);
      } finally {
        const e = totals.get(name) ?? { ms: 0, calls: 0 };
        e.ms += Number(process.hrtime.bigint() - t0) / 1e6;
        e.calls++;
        totals.set(name, e);
      }
    };
  const originals = { single: backend.executeSingleOutput, multiple: backend.executeMultipleOutputs };
  backend.executeSingleOutput = wrap(originals.single);
  backend.executeMultipleOutputs = wrap(originals.multiple);
  try {
    f();
  } finally {
    backend.executeSingleOutput = originals.single;
    backend.executeMultipleOutputs = originals.multiple;
  }
  return [...totals].map(([op, t]) => ({ op, ...t })).sort((a, b) => b.ms - a.ms);
}

interface OursResult {
  path: Path;
  imagesPerSecond: number;
  msPerStep: number;
  steps: number;
  groups: number;
  kernels: FusedKernelName[];
  layers?: Partial<Record<string, number>>;
  load: string;
}

async function timeOurs(net: Net, batch: number, p: Path, o: BenchTrainOptions): Promise<OursResult> {
  const model = createModel(net);
  const [, h, w, c] = model.inputs[0].shape as number[];
  const optimizer = tf.train.adam(1e-3);
  const webgpu = tf.getBackend() === 'webgpu';
  const webgpuKernels = webgpu ? enableWebGpuFastKernels(p === 'fast' ? WEBGPU_FAST_KERNEL_NAMES : []) : [];
  const step = createTrainStep(model, optimizer, webgpu ? { fast: false } : { fast: p === 'fast', kernels: o.kernels });
  const xs = tf.randomUniform([batch, h, w, c], 0, 1, 'float32', 1) as tf.Tensor4D;
  const ys = tf.tidy(() => tf.randomUniform([batch, 4], 0, 36, 'float32', 2).floor().cast('int32')) as tf.Tensor2D;
  const startLoad = load();
  // The last warm-up step (the first one allocates) sizes the timed groups.
  let warmSeconds = 0;
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < o.warmup; i++) {
    t0 = process.hrtime.bigint();
    await stepOnce(step, xs, ys);
    warmSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  }
  const steps = o.steps > 0 ? o.steps : Math.min(20, Math.max(2, Math.round(o.seconds / Math.max(warmSeconds, 1e-3))));
  const rates: number[] = [];
  for (let g = 0; g < o.groups; g++) {
    t0 = process.hrtime.bigint();
    for (let i = 0; i < steps; i++) await stepOnce(step, xs, ys);
    rates.push((batch * steps) / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  if (o.profile && webgpu) {
    // tf.profile times each kernel on the GPU (timestamp queries where the adapter has them).
    const profile = await profileKernels(async () => stepOnce(step, xs, ys));
    for (const line of formatKernelProfile(`${net} batch ${batch} ${p}`, profile)) console.log(line);
  }
  if (o.profile && !webgpu) {
    const ops = profileNative(() => void stepOnce(step, xs, ys));
    const total = ops.reduce((s, x) => s + x.ms, 0);
    const calls = ops.reduce((s, x) => s + x.calls, 0);
    console.log(`  profile ${net} batch ${batch} ${p}: ${total.toFixed(0)} ms in ${calls} native ops; top:`);
    for (const x of ops.slice(0, 12)) console.log(`    ${x.op.padEnd(38)} ${x.ms.toFixed(1).padStart(8)} ms ${String(x.calls).padStart(4)}x`);
  }
  const result: OursResult = {
    path: p,
    imagesPerSecond: median(rates),
    msPerStep: (batch / median(rates)) * 1000,
    steps,
    groups: o.groups,
    // webgpu: the fast kernels, the filter gradient's strategy named (CAPTCHA_LAB_WEBGPU_FILTER_GRAD)
    kernels: webgpu ? (webgpuKernels.map((k) => (k === 'conv2dBackpropFilter' ? `${k}:${webGpuFilterGradient()}` : k)) as unknown as FusedKernelName[]) : step.info.kernels,
    layers: step.info.layers,
    load: `${startLoad}->${load()}`,
  };
  step.dispose();
  optimizer.dispose();
  model.dispose();
  tf.dispose([xs, ys]);
  return result;
}

function pythonHasTensorflow(python: string): boolean {
  if (!fs.existsSync(python)) return false;
  return spawnSync(python, ['-c', 'import tensorflow'], { stdio: 'ignore', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' } }).status === 0;
}

/** Makes sure the Keras reference can run; returns why not otherwise. */
function prepareKeras(o: BenchTrainOptions): string | undefined {
  if (!fs.existsSync(o.kerasScript)) return `${o.kerasScript} not found; pass --keras-script`;
  if (pythonHasTensorflow(o.python)) return undefined;
  const setup = path.join(ROOT, 'scripts', 'setup.sh');
  if (o.python !== DEFAULT_BENCH_TRAIN_OPTIONS.python || !fs.existsSync(setup)) {
    return `${o.python} cannot import tensorflow; install tensorflow-cpu==2.21.0 into it`;
  }
  console.log('[bench] the venv lacks tensorflow: running `bash scripts/setup.sh --keras` (about a minute)');
  const res = spawnSync('bash', [setup, '--keras'], { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) return `bash scripts/setup.sh --keras failed (exit ${res.status})`;
  return pythonHasTensorflow(o.python) ? undefined : `${o.python} still cannot import tensorflow after setup`;
}

function timeKeras(net: Net, batch: number, o: BenchTrainOptions): { imagesPerSecond?: number; error?: string; load: string } {
  const startLoad = load();
  const res = spawnSync(o.python, [o.kerasScript, '--net', net, '--batch', String(batch), '--steps', String(o.kerasSteps), '--repeats', String(o.groups)], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    maxBuffer: 16 * 1024 * 1024,
  });
  const m = /train images\/s ([\d.]+)/.exec(res.stdout ?? '');
  if (res.status !== 0 || !m) {
    const why = (res.stderr || res.stdout || String(res.error ?? '')).trim().split('\n').slice(-3).join(' | ');
    return { error: `keras run failed (exit ${res.status}): ${why}`, load: startLoad };
  }
  return { imagesPerSecond: Number(m[1]), load: `${startLoad}->${load()}` };
}

interface Round {
  ours: Partial<Record<Path, OursResult>>;
  keras?: number;
  kerasError?: string;
  kerasLoad?: string;
}

interface CaseResult {
  net: Net;
  batch: number;
  rounds: Round[];
  /** Median images/s over the rounds, per path. */
  ours: Partial<Record<Path, number>>;
  keras?: number;
  kerasError?: string;
  /** Median over rounds of (ours on the main path) / keras. */
  ratio?: number;
}

const fmt = (x: number | undefined, digits = 1) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits));

function mainPath(o: BenchTrainOptions): Path {
  return o.paths.includes('fast') ? 'fast' : 'plain';
}

function summarise(net: Net, batch: number, rounds: Round[], o: BenchTrainOptions): CaseResult {
  const ours: Partial<Record<Path, number>> = {};
  for (const p of o.paths) ours[p] = median(rounds.map((r) => r.ours[p]?.imagesPerSecond ?? NaN));
  const kerasRates = rounds.map((r) => r.keras).filter((k): k is number => k !== undefined);
  const ratios = rounds
    .map((r) => (r.keras ? (r.ours[mainPath(o)]?.imagesPerSecond ?? NaN) / r.keras : undefined))
    .filter((x): x is number => x !== undefined);
  return {
    net,
    batch,
    rounds,
    ours,
    keras: kerasRates.length ? median(kerasRates) : undefined,
    kerasError: rounds.find((r) => r.kerasError)?.kerasError,
    ratio: ratios.length ? median(ratios) : undefined,
  };
}

function printTable(results: CaseResult[], o: BenchTrainOptions): void {
  const both = o.paths.length === 2;
  const header = ['net', 'batch', ...o.paths.map((p) => `${p} img/s`), ...(both ? ['fast/plain'] : []), 'keras img/s', 'ratio'];
  const rows = results.map((r) => [
    r.net,
    String(r.batch),
    ...o.paths.map((p) => fmt(r.ours[p])),
    ...(both ? [`${fmt((r.ours.fast ?? NaN) / (r.ours.plain ?? NaN), 2)}x`] : []),
    fmt(r.keras),
    fmt(r.ratio, 2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
  for (const r of results) {
    const keras = r.keras === undefined ? (r.kerasError ? 'n/a' : '-') : `${fmt(r.keras)} img/s`;
    console.log(`${r.net} batch ${r.batch}: ours ${fmt(r.ours[mainPath(o)])} img/s, keras ${keras}, ratio ${fmt(r.ratio, 2)}`);
  }
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv);
  const backend = await selectBackend({ force: o.backend, log: (l) => console.log(l) });
  const onGpu = backend.tfBackend === 'webgpu';
  const kerasProblem = onGpu ? 'skipped (webgpu: compare against a CPU run)' : o.keras ? prepareKeras(o) : 'skipped (--no-keras)';
  console.log(
    `[bench] tfjs ${tf.version.tfjs} on '${backend.tfBackend}', ${os.cpus().length} cores, load ${load()}; ` +
      `paths ${o.paths.join('+')}; ${o.groups} timed groups after ${o.warmup} warm-up steps; ` +
      `keras: ${kerasProblem ?? `${path.relative(process.cwd(), o.kerasScript)} (${o.kerasSteps} batches x ${o.groups} epochs)`}`,
  );
  if (o.paths.includes('fast') && backend.tfBackend !== 'tensorflow' && !onGpu) {
    console.log(`[bench] WARNING: the fast path needs tfjs-node; on '${backend.tfBackend}' it runs the plain path`);
  }
  const results: CaseResult[] = [];
  for (const net of o.nets) {
    for (const batch of o.batches) {
      const rounds: Round[] = [];
      for (let round = 0; round < o.rounds; round++) {
        const r: Round = { ours: {} };
        const tag = o.rounds > 1 ? ` (round ${round + 1}/${o.rounds})` : '';
        for (const p of o.paths) {
          const ours = await timeOurs(net, batch, p, o);
          r.ours[p] = ours;
          console.log(
            `[ours]  ${net} batch ${batch} ${p}${tag}: ${fmt(ours.imagesPerSecond)} img/s (${fmt(ours.msPerStep, 0)} ms/step, ` +
              `median of ${ours.groups}x${ours.steps} steps, load ${ours.load})` +
              (p === 'fast' ? ` kernels ${ours.kernels.join(',') || 'none'}` : ''),
          );
        }
        if (!kerasProblem) {
          const k = timeKeras(net, batch, o);
          r.keras = k.imagesPerSecond;
          r.kerasError = k.error;
          r.kerasLoad = k.load;
          console.log(k.error ? `[keras] ${net} batch ${batch}${tag}: ${k.error}` : `[keras] ${net} batch ${batch}${tag}: ${fmt(k.imagesPerSecond)} img/s (load ${k.load})`);
        }
        rounds.push(r);
      }
      results.push(summarise(net, batch, rounds, o));
    }
  }
  printTable(results, o);
  if (o.json) {
    writeFileAtomic(o.json, JSON.stringify({ date: new Date().toISOString(), cores: os.cpus().length, options: o, results }, null, 2) + '\n');
    console.log(`[bench] wrote ${o.json}`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
