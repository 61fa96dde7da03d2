/**
 * Checks of the webgpu backend: that our fast kernels compute what the backend's own kernels and
 * the cpu backend compute, how fast each is per layer, and that a network learns on it.
 *
 *   node dist/scripts/webgpu-check.js grad [--shapes tiny|seed] [--batch 64] [--cpu-ref] [--software]
 *   node dist/scripts/webgpu-check.js learn --data DIR [--net seed-bn] [--seconds 120] [--batch 64]
 *   node dist/scripts/webgpu-check.js smoke [--software]
 *
 * `grad` prints one JSON line per case, {case, relErrFastVsCpu, relErrPlainVsCpu, msPlain, msFast},
 * and exits 1 when a relative error (max |a - b| / max |b|) exceeds 1e-4. `tiny` shapes cover
 * strides, 'same'/'valid' padding and odd sizes cheaply enough for llvmpipe (the tests run it
 * there); `seed` shapes are the seed network's eight convolutions (for a GPU).
 *
 * `learn` trains on a dataset folder (labels.txt + N.jpg), decoding JPEGs in JavaScript (jpeg-js)
 * so it also runs where node-canvas does not (a bundle carried to a GPU machine), holds out the
 * last 10%, and prints the held-out accuracy every `--every` seconds: a run that learns shows
 * character accuracy far above 1/36.
 *
 * `smoke` trains a tiny two-head model for a few steps on the plain training step and reads it back
 * with `predictTexts`, with every synchronous read (`dataSync`, `arraySync`) made to throw, and
 * counts the dead units of a small ReLU convolution with the plateau monitor's `deadUnitFraction`
 * on webgpu and on cpu: it prints {losses, predicted, deadUnits: {webgpu, cpu, units}, ok} and
 * exits 1 unless the loss falls and both backends count the same dead units.
 *
 * `--software` accepts a software adapter (llvmpipe); without it only a GPU is used.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs, type ParseArgsConfig } from 'util';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../src/backend';
import { parseIntArg } from '../src/cli/common';
import { enableWebGpuFastKernels, WEBGPU_FAST_KERNEL_NAMES, webGpuFilterGradient } from '../src/backend/webgpu-kernels';
import { DEFAULT_ALPHABET } from '../src/models/charset';
import { createModel } from '../src/models/registry';
import { createTrainStep } from '../src/train/step';
import { scorePredictions } from '../src/eval/metrics';
import { predictTexts } from '../src/eval/predict';
import { deadUnitFraction, lastConvReluLayer } from '../src/train/plateau';

export const MAX_REL_ERR = 1e-4;

const SOFTWARE = { software: { type: 'boolean', default: false } } as const;

/** Each mode's flags; parsed strictly, so a misspelt flag is refused instead of keeping its default. */
const MODE_FLAGS = {
  grad: { shapes: { type: 'string', default: 'tiny' }, batch: { type: 'string', default: '64' }, 'cpu-ref': { type: 'boolean', default: false }, ...SOFTWARE },
  learn: {
    data: { type: 'string' }, net: { type: 'string', default: 'seed-bn' }, seconds: { type: 'string', default: '120' },
    every: { type: 'string', default: '20' }, batch: { type: 'string', default: '64' }, limit: { type: 'string', default: '100000' }, ...SOFTWARE,
  },
  smoke: SOFTWARE,
} satisfies Record<string, ParseArgsConfig['options']>;

type Flags = Record<string, string | boolean | undefined>;

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
}

function tinyCases(): ConvCase[] {
  return [
    { name: 'valid s1 3x3 3->4', x: [2, 9, 11, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'valid' },
    { name: 'same s1 3x3 4->5', x: [3, 8, 7, 4], filter: [3, 3, 4, 5], strides: 1, pad: 'same' },
    { name: 'same s2 3x3 2->3', x: [2, 9, 10, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'same' },
    { name: 'valid s2 2x4 3->2', x: [1, 10, 13, 3], filter: [2, 4, 3, 2], strides: 2, pad: 'valid' },
    // dy of 46x46 = 2,116 pixels: the by-size strategy computes this one per image
    { name: 'valid s1 3x3 2->3 large', x: [2, 48, 48, 2], filter: [3, 3, 2, 3], strides: 1, pad: 'valid' },
  ];
}

function seedCases(batch: number): ConvCase[] {
  const out: ConvCase[] = [];
  let [h, w, c] = [80, 170, 3];
  for (const f of [32, 32, 64, 64, 128, 128, 256, 256]) {
    out.push({ name: `seed ${h}x${w}x${c}->${f}`, x: [batch, h, w, c], filter: [3, 3, c, f], strides: 1, pad: 'valid' });
    h -= 2;
    w -= 2;
    c = f;
    if (out.length % 2 === 0) {
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    }
  }
  return out;
}

/** The filter gradient of conv2d(x, filter) against a fixed upstream gradient, on the active backend. */
function filterGrad(c: ConvCase, xData: Float32Array, fData: Float32Array, rData: Float32Array): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.tensor4d(xData, c.x);
    const f = tf.tensor4d(fData, c.filter);
    const y = tf.conv2d(x, f, c.strides, c.pad);
    const r = tf.tensor(rData, y.shape);
    return tf.grad((ff: tf.Tensor) => tf.conv2d(x, ff as tf.Tensor4D, c.strides, c.pad).mul(r).sum())(f);
  });
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / Math.max(den, 1e-30);
}

async function timeMs(f: () => tf.Tensor, reps: number): Promise<number> {
  const warm = f();
  await warm.data();
  warm.dispose();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const t = f();
    await t.data();
    t.dispose();
  }
  return (performance.now() - t0) / reps;
}

function randomData(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

async function grad(flags: Flags): Promise<number> {
  const shapes = flags.shapes as string;
  const batch = parseIntArg('--batch', 1)(flags.batch as string);
  const cases = shapes === 'seed' ? seedCases(batch) : tinyCases();
  const reps = shapes === 'seed' ? 3 : 1;
  let worst = 0;
  for (const c of cases) {
    const xData = randomData(c.x.reduce((a, b) => a * b), 1);
    const fData = randomData(c.filter.reduce((a, b) => a * b), 2);
    const yShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
    const rData = randomData(yShape.reduce((a, b) => a * b), 3);
    await tf.setBackend('webgpu');
    enableWebGpuFastKernels([]);
    const plainT = filterGrad(c, xData, fData, rData);
    const plain = (await plainT.data()) as Float32Array;
    plainT.dispose();
    // The pure-JS cpu backend needs minutes for the seed network's shapes (it timed out on the
    // H200 machine): there the backend's own kernel is the reference, unless --cpu-ref.
    let ref = plain;
    if (shapes !== 'seed' || flags['cpu-ref']) {
      await tf.setBackend('cpu');
      ref = (await filterGrad(c, xData, fData, rData).data()) as Float32Array;
      await tf.setBackend('webgpu');
    }
    const msPlain = await timeMs(() => filterGrad(c, xData, fData, rData), reps);
    enableWebGpuFastKernels(WEBGPU_FAST_KERNEL_NAMES);
    const fastT = filterGrad(c, xData, fData, rData);
    const fast = (await fastT.data()) as Float32Array;
    fastT.dispose();
    const msFast = await timeMs(() => filterGrad(c, xData, fData, rData), reps);
    const row = {
      case: c.name,
      relErrFastVsCpu: relErr(fast, ref),
      relErrPlainVsCpu: relErr(plain, ref),
      relErrFastVsPlain: relErr(fast, plain),
      msPlain: Number(msPlain.toFixed(1)),
      msFast: Number(msFast.toFixed(1)),
    };
    worst = Math.max(worst, row.relErrFastVsCpu, row.relErrFastVsPlain);
    console.log(JSON.stringify(row));
  }
  console.log(JSON.stringify({ worstRelErr: worst, limit: MAX_REL_ERR, ok: worst <= MAX_REL_ERR, filterGradient: webGpuFilterGradient() }));
  return worst <= MAX_REL_ERR ? 0 : 1;
}

/** A folder of N.jpg + labels.txt, decoded with jpeg-js into one uint8 RGB array. */
function loadJpegFolder(dir: string, limit: number): { pixels: Uint8Array; texts: string[]; h: number; w: number } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jpeg = require('jpeg-js') as typeof import('jpeg-js');
  const texts = fs.readFileSync(path.join(dir, 'labels.txt'), 'utf8').split('\n').filter(Boolean).slice(0, limit);
  let h = 0;
  let w = 0;
  let pixels = new Uint8Array(0);
  texts.forEach((_, i) => {
    const img = jpeg.decode(fs.readFileSync(path.join(dir, `${i}.jpg`)), { useTArray: true, formatAsRGBA: false });
    if (i === 0) {
      [h, w] = [img.height, img.width];
      pixels = new Uint8Array(texts.length * h * w * 3);
    }
    if (img.height !== h || img.width !== w) throw new Error(`${dir}/${i}.jpg is ${img.width}x${img.height}, expected ${w}x${h}`);
    pixels.set(img.data, i * h * w * 3);
  });
  return { pixels, texts, h, w };
}

async function learn(flags: Flags): Promise<number> {
  const dir = flags.data as string | undefined;
  if (!dir) throw new Error('learn needs --data DIR (a dataset folder of N.jpg + labels.txt)');
  const net = flags.net as string;
  const count = (name: string) => parseIntArg(`--${name}`, 1)(flags[name] as string);
  const seconds = count('seconds');
  const every = count('every');
  const batch = count('batch');
  const t0 = Date.now();
  const { pixels, texts, h, w } = loadJpegFolder(dir, count('limit'));
  const n = texts.length;
  const nTrain = Math.floor(n * 0.9);
  const alphabet = DEFAULT_ALPHABET;
  console.log(`[learn] ${n} images ${w}x${h} decoded in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${nTrain} train, ${n - nTrain} held out; ${net} batch ${batch} for ${seconds} s on ${tf.getBackend()}`);
  const model = createModel(net, { height: h, width: w, channels: 3 });
  const optimizer = tf.train.adam(1e-3);
  const step = createTrainStep(model, optimizer, { fast: false });
  const batchOf = (idx: number[]) => {
    const xs = new Float32Array(idx.length * h * w * 3);
    idx.forEach((k, b) => {
      const src = pixels.subarray(k * h * w * 3, (k + 1) * h * w * 3);
      for (let j = 0; j < src.length; j++) xs[b * src.length + j] = src[j] / 255;
    });
    const ys = new Int32Array(idx.length * 4);
    idx.forEach((k, b) => [...texts[k]].forEach((ch, p) => (ys[b * 4 + p] = alphabet.indexOf(ch))));
    return { xs: tf.tensor4d(xs, [idx.length, h, w, 3]), ys: tf.tensor2d(ys, [idx.length, 4], 'int32') };
  };
  const heldOut = async () => {
    const predicted: string[] = [];
    for (let s = nTrain; s < n; s += 128) {
      const idx = Array.from({ length: Math.min(128, n - s) }, (_, i) => s + i);
      const { xs, ys } = batchOf(idx);
      predicted.push(...(await predictTexts(model, xs, alphabet, 'per-position')));
      tf.dispose([xs, ys]);
    }
    return scorePredictions(texts.slice(nTrain), predicted, alphabet);
  };
  const start = Date.now();
  let nextReport = every;
  let steps = 0;
  let images = 0;
  let trainSeconds = 0;
  let order: number[] = [];
  while ((Date.now() - start) / 1000 < seconds) {
    if (order.length < batch) order = [...order, ...shuffled(nTrain, steps)];
    const { xs, ys } = batchOf(order.splice(0, batch));
    const s0 = Date.now();
    const r = step(xs, ys);
    const loss = (await r.loss.data())[0];
    trainSeconds += (Date.now() - s0) / 1000;
    tf.dispose([xs, ys, r.loss, r.correct]);
    steps++;
    images += batch;
    const elapsed = (Date.now() - start) / 1000;
    if (elapsed >= nextReport || elapsed >= seconds) {
      nextReport += every;
      const rep = await heldOut();
      console.log(
        `[learn] ${elapsed.toFixed(0)} s, step ${steps}, ${images} images (${(images / trainSeconds).toFixed(0)} img/s in steps): loss ${loss.toFixed(3)}, ` +
          `held-out char ${(100 * rep.characterAccuracy).toFixed(2)}% whole ${(100 * rep.wholeAccuracy).toFixed(2)}%`,
      );
    }
  }
  return 0;
}

function shuffled(n: number, seed: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/**
 * Dead units (position x channel) of a small ReLU convolution on fixed images, counted by the
 * plateau monitor's `deadUnitFraction` on the active backend. The negative bias kills some units
 * and not others, so a backend that reads every unit as dead (or none) disagrees with cpu. The
 * activation (3 x 7 x 9 x 32) is big enough for tfjs-backend-webgpu 4.22's broken any(0) of a 4-D
 * bool tensor (an invalid transpose shader, all false) to show; small ones happen to come out right.
 */
async function probeDeadUnits(): Promise<{ dead: number; units: number }> {
  const input = tf.input({ shape: [9, 11, 3] });
  const conv = tf.layers.conv2d({
    filters: 32,
    kernelSize: 3,
    activation: 'relu',
    kernelInitializer: tf.initializers.glorotUniform({ seed: 7 }),
    biasInitializer: tf.initializers.constant({ value: -0.1 }),
  });
  const model = tf.model({ inputs: input, outputs: tf.layers.flatten().apply(conv.apply(input)) as tf.SymbolicTensor });
  const layer = lastConvReluLayer(model);
  if (!layer) throw new Error('probeDeadUnits: the probe model has no ReLU convolution');
  const units = (layer.outputShape as number[]).slice(1).reduce((a, b) => a * b, 1);
  const images = [0, 1].map((i) => tf.tensor4d(randomData(3 * 9 * 11 * 3, 11 + i), [3, 9, 11, 3]));
  const fraction = await deadUnitFraction(model, layer, images);
  tf.dispose(images);
  model.dispose();
  return { dead: Math.round(fraction * units), units };
}

async function smoke(): Promise<number> {
  const banned = () => {
    throw new Error('a synchronous read (dataSync/arraySync) ran on the webgpu path');
  };
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  proto.dataSync = banned;
  proto.arraySync = banned;
  const input = tf.input({ shape: [12, 16, 3] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const heads = [0, 1].map((i) =>
    tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 + i }) }).apply(x) as tf.SymbolicTensor,
  );
  const model = tf.model({ inputs: input, outputs: heads });
  const xs = tf.randomUniform([6, 12, 16, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const ys = tf.tensor2d([0, 1, 2, 0, 1, 2, 2, 1, 0, 2, 1, 0], [6, 2], 'int32');
  const step = createTrainStep(model, tf.train.adam(0.05), { fast: false });
  const losses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = step(xs, ys);
    losses.push((await r.loss.data())[0]);
    tf.dispose([r.loss, r.correct]);
  }
  const predicted = await predictTexts(model, xs, 'ABC', 'per-position');
  const onWebGpu = await probeDeadUnits();
  await tf.setBackend('cpu');
  const onCpu = await probeDeadUnits();
  await tf.setBackend('webgpu');
  const deadUnits = { webgpu: onWebGpu.dead, cpu: onCpu.dead, units: onCpu.units };
  const ok = losses[losses.length - 1] < losses[0] && predicted.length === 6 && deadUnits.webgpu === deadUnits.cpu;
  console.log(JSON.stringify({ losses, predicted, deadUnits, ok }));
  return ok ? 0 : 1;
}

async function main(): Promise<number> {
  const mode = process.argv[2];
  if (mode !== 'grad' && mode !== 'learn' && mode !== 'smoke') throw new Error('usage: webgpu-check grad|learn|smoke [options] (see the header of scripts/webgpu-check.ts)');
  const flags = parseArgs({ args: process.argv.slice(3), options: MODE_FLAGS[mode] as ParseArgsConfig['options'] }).values as Flags;
  if (flags.software) process.env.CAPTCHA_LAB_WEBGPU_SOFTWARE = '1';
  const backend = await selectBackend({ force: 'webgpu', log: (l) => console.log(l) });
  console.log(`[webgpu-check] ${backend.package}`);
  return mode === 'grad' ? grad(flags) : mode === 'smoke' ? smoke() : learn(flags);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`webgpu-check: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
