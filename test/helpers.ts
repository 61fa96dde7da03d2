/** Test helpers shared by several suites. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { registerModel } from '../src/models';

/** A fresh temporary folder, removed by the returned cleanup function. */
export function tempDir(prefix = 'captcha-lab-test-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

let reported = false;

/** Loads the best backend once for the whole test run, as the CLI would, and says which. */
export async function useNativeBackend(): Promise<void> {
  const { selectBackend } = await import('../src/backend');
  const info = await selectBackend({ log: () => undefined });
  if (!reported) {
    reported = true;
    console.log(`      [tests run on the TensorFlow.js backend '${info.tfBackend}' from ${info.package}]`);
  }
}

/**
 * Writes a tiny synthetic dataset in the generator's layout (`i.png` + labels.txt): each image is
 * a few vertical bars whose positions encode the label, so a tiny model can learn it quickly.
 */
export function writeToyDataset(dir: string, count: number, opts: { width?: number; height?: number; alphabet?: string; length?: number } = {}): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createCanvas } = require('canvas') as typeof import('canvas');
  const { width = 40, height = 24, alphabet = '0123', length = 2 } = opts;
  fs.mkdirSync(dir, { recursive: true });
  const labels: string[] = [];
  let state = 12345;
  const rand = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < count; i++) {
    let text = '';
    for (let p = 0; p < length; p++) text += alphabet[Math.floor(rand() * alphabet.length)];
    const canvas = createCanvas(width, height);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = '#000';
    const cell = width / length;
    for (let p = 0; p < length; p++) {
      const k = alphabet.indexOf(text[p]);
      ctx.fillRect(p * cell + 2, (k * height) / alphabet.length, cell - 4, height / alphabet.length);
    }
    fs.writeFileSync(path.join(dir, `${i}.png`), canvas.toBuffer('image/png'));
    labels.push(text);
  }
  fs.writeFileSync(path.join(dir, 'labels.txt'), labels.join('\n') + '\n');
  return labels;
}

/**
 * A "CTC model" whose logits are its input image: an image [1, T, C] becomes logits [T, C], so a
 * test writes the per-step scores it wants decoded as pixels.
 */
export function logitsModel(time: number, classes: number): tf.LayersModel {
  const input = tf.input({ shape: [1, time, classes] });
  const output = tf.layers.reshape({ targetShape: [time, classes] }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

/**
 * Two ReLU convolutions (the last named `last_conv`) and softmax heads, for the plateau tests:
 * `lastBias` starts the last convolution's units there (-1000: dead from the start, so it never learns).
 */
export function reluToyNet(lastBias: number, seed: number, input = { height: 24, width: 40, channels: 1 }, numClasses = 4, numPositions = 2): tf.LayersModel {
  const x0 = tf.input({ shape: [input.height, input.width, input.channels] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(x0) as tf.SymbolicTensor;
  x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: tf.initializers.constant({ value: lastBias }), name: 'last_conv' })
    .apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const outputs = Array.from({ length: numPositions }, (_, i) =>
    tf.layers.dense({ units: numClasses, activation: 'softmax', name: `digit${i + 1}`, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 + i }) }).apply(x) as tf.SymbolicTensor,
  );
  return tf.model({ inputs: x0, outputs });
}

/** Registers `plateau-dead-test` and `plateau-healthy-test`: reluToyNet with its last bias at -1000 and 0. */
export function registerPlateauToyModels(): void {
  for (const [name, bias] of [['plateau-dead-test', -1000], ['plateau-healthy-test', 0]] as const) {
    registerModel({
      name,
      description: `test-only: two ReLU convs, the last one's bias ${bias}`,
      head: 'per-position',
      defaultInput: { height: 24, width: 40, channels: 1 },
      create: ({ height, width, channels, numClasses, numPositions, seed }) => reluToyNet(bias, seed, { height, width, channels }, numClasses, numPositions),
    });
  }
}
