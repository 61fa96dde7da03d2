/**
 * The 0/O reader (src/eval/zero-o-reader.ts): its training crops, its training, and its selection.
 *
 *   node dist/scripts/zero-o-reader.js crops [--count 163840] [--model-dir models/pretrained] [--seeds <name>] [--out data/zero-o-crops]
 *   node dist/scripts/zero-o-reader.js train [--crops data/zero-o-crops] [--epochs 3] [--lr 1e-3] [--init <reader>] [--flip] [--out models/zero-o-reader]
 *   node dist/scripts/zero-o-reader.js attach --model-dir <CTC model folder> [--reader models/zero-o-reader] [--any-model]
 *   node dist/scripts/zero-o-reader.js expert [--steps 8000] [--until <step>] [--jitter 2] [--from <expert>] [--validation data/zero-o-crops-fresh-1] [--out models/zero-o-window-expert]
 *   node dist/scripts/zero-o-reader.js combine [--reader models/zero-o-reader-alone] [--expert models/zero-o-window-expert] [--fit data/zero-o-crops-fresh-1] [--out models/zero-o-reader-window]
 *
 * `crops`: CAPTCHAs of the training mix (the four versions, 140-170 x 60-80 px, one variant per batch
 * of 64) whose text has one 0 or O at a random place, read by the CRNN; where it reads exactly one
 * round glyph at that place, the window around it (located from the CRNN's output, as at test time)
 * is kept with the true character. Written in parts of 8,192 crops, each atomically, so an
 * interrupted run resumes at the next part. Seeds `zero-o-reader/crops#i` are used nowhere else;
 * `--seeds <name>` draws another stream of CAPTCHAs, disjoint from it (`zero-o-reader/crops@<name>#i`),
 * for crops never trained on.
 * `train`: the reader on every part but the last, which is its validation; prints per-glyph error
 * of the reader and of the CRNN on the validation crops after each epoch, keeps the best epoch;
 * `--flip` mirrors a random half of every batch left to right (`mirrorCrops`).
 * `expert`: the window expert (`createWindowExpert`), from scratch on windows drawn fresh every step
 * (`roundGlyphsInCaptchas`: texts of the training mix with one 0 or O, the window at the glyph's
 * true centre moved by up to --jitter px), no CRNN run; resumable (checkpoints every 250 steps, with
 * Adam's state); `--until <step>` trains one part, to that step.
 * `--from <expert>` goes on from a finished expert's weights and step to --steps in all (more than
 * its own), on the windows after the ones it saw; run.json's `from` keeps its folder and run (its
 * history continues in the new run's); --out must be another folder.
 * --validation's last part (windows located by the CRNN) is read every 1,000 steps, to watch only.
 * `combine`: the reader and the expert as one reader (`withWindowExpert`), the expert's logit
 * weighted by what fits --fit's parts but the last two best (log-loss), those two read as a check.
 * Its default reader is the one shipped before rule 9 (models/zero-o-reader-alone): the shipped
 * folder now holds the combined reader, which is not a reader to combine again.
 * `attach`: copies the reader into the model folder (`zero-o-reader/`) and names it in its
 * metadata.json (`zeroOReader`), so predict, evaluate, matrix and the demo read with it. The reader
 * corrects the lean of the CRNN whose crops it was trained on (each part records that CRNN's run,
 * the reader's run.json too), so attaching it to a model of another run is refused unless
 * `--any-model` says it is meant (to compare, as rule 7 of docs/pretrained.md did).
 */
import * as crypto from 'crypto';
import { parseArgs } from 'util';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CAPTCHA_VERSIONS, ImageCaptcha, createRng, deriveSeed, type CaptchaVersion, type RgbImage } from '../src/captcha';
import { drawMixVariant } from '../src/data/captcha-stream';
import { pixelsToTensor } from '../src/data/tensors';
import { createRoundGlyphStream } from '../src/eval/round-glyph-stream';
import { ZERO_O_CROP, ROUND_PAIR, createWindowExpert, createZeroOReader, cropsToTensor, logitOf, withWindowExpert, mirrorCrops, roundGlyphWindows, textWithOneRoundGlyph } from '../src/eval/zero-o-reader';
import { ctcConstrainedDecode, ctcIndicesToText, getModelSpec, loadModel, saveModel, textRulesOf } from '../src/models';
import { readLayersModel, writeFolderAtomically } from '../src/models/io';
import { writeFileAtomic } from '../src/files';
import { startBackend } from '../src/cli/common';
import { decodeOptimizerState, encodeOptimizerState } from '../src/train';

const PART = Number(process.env.ZERO_O_PART ?? 8192);
const BATCH = 64;
const CROP_BYTES = ZERO_O_CROP.width * ZERO_O_CROP.height;
const READER_FOLDER = 'zero-o-reader';
/** Adam's state beside an expert's checkpoint (the weights' folder), with the learning rate it ran at. */
const EXPERT_OPTIMIZER_BIN = 'optimizer.bin';
const EXPERT_OPTIMIZER_JSON = 'optimizer.json';
const MIX = { versions: CAPTCHA_VERSIONS, width: [140, 170], height: [60, 80] } as const;

/**
 * A command's flags, read strictly (util.parseArgs, as the other scripts do): an unknown flag or
 * one without its value is refused, not taken for a default.
 */
function argsOf<T>(command: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new Error(`'${command}': ${(err as Error).message}; see the comment at the top of scripts/zero-o-reader.ts for its flags`);
  }
}

/** metadata.json of a model that reads the 0/O window: the reader (alone or with an expert) or the window expert. */
function windowModelMetadata(architecture: 'zero-o-reader' | 'zero-o-window-expert') {
  return { architecture, alphabet: ROUND_PAIR.join(''), input: { height: ZERO_O_CROP.height, width: ZERO_O_CROP.width, channels: 1 } };
}

/** The version and image size of batch `index` of the training mix, drawn from `stream`. */
function mixVariant(stream: string, index: number): { version: CaptchaVersion; width: number; height: number } {
  return drawMixVariant(MIX, createRng(deriveSeed(stream, index)));
}

/** A JSON file of a folder, parsed; null when the folder has none. */
function jsonIn(dir: string, file: string): any {
  const where = path.join(dir, file);
  return fs.existsSync(where) ? JSON.parse(fs.readFileSync(where, 'utf8')) : null;
}

/** A short id of a model's weights: the reader corrects the CRNN of exactly these weights. */
function weightsId(modelDir: string): string | null {
  const file = path.join(modelDir, 'weights.bin');
  return fs.existsSync(file) ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16) : null;
}

async function crops(argv: string[]): Promise<void> {
  const { values } = argsOf('crops', () =>
    parseArgs({
      args: argv,
      options: { count: { type: 'string', default: '163840' }, out: { type: 'string', default: 'data/zero-o-crops' }, seeds: { type: 'string' }, 'model-dir': { type: 'string', default: 'models/pretrained' } },
    }),
  );
  const count = Number(values.count);
  if (!(Number.isInteger(count) && count >= 1)) throw new Error(`--count must be a whole number of crops >= 1, got ${values.count}`);
  const out = values.out!;
  const seeds = values.seeds ?? '';
  if (values.seeds !== undefined && !/^[\w.-]+$/.test(seeds)) throw new Error(`--seeds needs a name of letters, digits, '.', '-' or '_', got '${seeds}'`);
  // (a name holds no '/', so no stream's texts share seeds with another's sizes)
  const stream = seeds ? `zero-o-reader/crops@${seeds}` : 'zero-o-reader/crops';
  const variantStream = seeds ? `${stream}/variant` : 'zero-o-reader/crops-variant';
  const modelDir = values['model-dir']!;
  const { model, metadata } = await loadModel(modelDir);
  const rules = textRulesOf(metadata)!;
  const readBy = metadata.run ?? null;
  const readByWeights = weightsId(modelDir);
  const generators = new Map<CaptchaVersion, ImageCaptcha>();
  fs.mkdirSync(out, { recursive: true });
  const parts = Math.ceil(count / PART);
  let batchIndex = 0;
  for (let part = 0; part < parts; part++) {
    const file = path.join(out, `part-${String(part).padStart(3, '0')}.bin`);
    if (fs.existsSync(file)) {
      const made = JSON.parse(fs.readFileSync(file.replace(/\.bin$/, '.json'), 'utf8'));
      // Parts made before --seeds existed name no stream: theirs is the default one.
      if ((made.seeds ?? 'zero-o-reader/crops') !== stream) {
        const asFlag = (s: string) => (s === 'zero-o-reader/crops' ? 'no --seeds' : `--seeds ${s.replace('zero-o-reader/crops@', '')}`);
        throw new Error(`${file} was drawn with ${asFlag(made.seeds ?? 'zero-o-reader/crops')}, not ${asFlag(stream)}: give another --out, or the --seeds it was made with`);
      }
      // (parts made before the reading CRNN was recorded say nothing of it)
      if ((made.readBy !== undefined && made.readBy !== readBy) || (made.readByWeights !== undefined && made.readByWeights !== readByWeights)) {
        throw new Error(`${file} was read by another CRNN (run '${made.readBy}') than ${modelDir} (run '${readBy}'): give another --out, or the --model-dir it was made with`);
      }
      batchIndex = made.nextBatch;
      continue;
    }
    const started = Date.now();
    const pixels: Uint8Array[] = [];
    const labels: number[] = [];
    const crnn: number[] = [];
    const logOdds: number[] = [];
    const versions: string[] = [];
    while (labels.length < PART) {
      const { version, width, height } = mixVariant(variantStream, batchIndex);
      const key = `${version}@${width}x${height}`;
      let generator = generators.get(version);
      if (!generator) generators.set(version, (generator = new ImageCaptcha({ version })));
      const sized = new ImageCaptcha({ ...generator.options, width, height, glyphAtlas: generator.glyphAtlas() });
      const images: RgbImage[] = [];
      const texts: string[] = [];
      const rgb = new Uint8Array(BATCH * width * height * 3);
      for (let i = 0; i < BATCH; i++) {
        const rng = createRng(deriveSeed(stream, batchIndex * BATCH + i));
        const text = textWithOneRoundGlyph(rng, metadata.alphabet);
        const image = sized.generateImage(text, rng);
        rgb.set(image.data, i * width * height * 3);
        images.push(image);
        texts.push(text);
      }
      batchIndex++;
      const logits = tf.tidy(() => model.predict(pixelsToTensor(rgb, BATCH, height, width, metadata.input)) as tf.Tensor3D);
      const decoded = ctcIndicesToText(await ctcConstrainedDecode(logits, rules), metadata.alphabet);
      // The windows the reader will see at test time, located from this reading.
      const windows = await roundGlyphWindows(decoded, logits, images, metadata.input, metadata.alphabet);
      logits.dispose();
      for (const [j, site] of windows.sites.entries()) {
        const truth = texts[site.index][site.position];
        if (!(ROUND_PAIR as readonly string[]).includes(truth) || labels.length >= PART) continue;
        pixels.push(windows.crops.subarray(j * CROP_BYTES, (j + 1) * CROP_BYTES));
        labels.push(truth === ROUND_PAIR[1] ? 1 : 0);
        crnn.push(decoded[site.index][site.position] === ROUND_PAIR[1] ? 1 : 0);
        logOdds.push(Number(site.logOdds.toFixed(4)));
        versions.push(key);
      }
    }
    const bytes = new Uint8Array(PART * CROP_BYTES);
    pixels.forEach((p, i) => bytes.set(p, i * CROP_BYTES));
    writeFileAtomic(file.replace(/\.bin$/, '.json'), JSON.stringify({ labels, crnn, logOdds, versions, nextBatch: batchIndex, seeds: stream, readBy, readByWeights }) + '\n');
    writeFileAtomic(file, Buffer.from(bytes.buffer));
    const crnnError = labels.filter((l, i) => l !== crnn[i]).length / PART;
    console.log(`${file}: ${PART} crops in ${((Date.now() - started) / 1000).toFixed(0)} s; the CRNN confuses ${(100 * crnnError).toFixed(2)}% of them`);
  }
}

/** The crop parts of a folder, in order; `last` reads only the last one (validation, or what is watched). */
function readParts(dir: string, which: 'all' | 'last' = 'all'): Array<{ bytes: Uint8Array; labels: number[]; crnn: number[]; logOdds: number[]; versions: string[]; readBy?: string | null; readByWeights?: string | null }> {
  const files = fs.readdirSync(dir).filter((f) => /^part-\d+\.bin$/.test(f)).sort();
  if (files.length < 2) throw new Error(`${dir} has ${files.length} crop parts; make at least 2 with 'crops' (the last is validation)`);
  return (which === 'last' ? files.slice(-1) : files).map((f) => {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, f.replace(/\.bin$/, '.json')), 'utf8'));
    if (!Array.isArray(meta.logOdds)) throw new Error(`${path.join(dir, f)} was made before crops kept the CRNN's log-odds; delete ${dir} and run 'crops' again`);
    if (meta.labels.length !== PART) throw new Error(`${path.join(dir, f)} holds ${meta.labels.length} crops, not ${PART}: train with the ZERO_O_PART the crops were made with`);
    return { bytes: new Uint8Array(fs.readFileSync(path.join(dir, f))), ...meta };
  });
}

/**
 * The CRNN whose log-odds the crops hold (its run and a hash of its weights), which the reader
 * learns to correct; null when some part predates that record (the reader's run.json then names none).
 * Refuses crops that record two different CRNNs.
 */
function cropsReadBy(parts: ReturnType<typeof readParts>, dir: string): { readBy: string | null; readByWeights: string | null } | null {
  const recorded = (key: 'readBy' | 'readByWeights') => new Set(parts.flatMap((p) => (p[key] ? [p[key]] : [])));
  if (recorded('readBy').size > 1 || recorded('readByWeights').size > 1) {
    const readers = [...new Set(parts.map((p) => `run '${p.readBy ?? '?'}' (weights ${p.readByWeights ?? '?'})`))];
    throw new Error(`${dir} holds crops read by different CRNNs (${readers.join(', ')}); a reader learns one CRNN's lean: make its crops with one --model-dir`);
  }
  // Parts made before the weights (or the run) were recorded say less than the others: then none is named.
  const said = new Set(parts.map((p) => `${p.readBy ?? ''}|${p.readByWeights ?? ''}`));
  if (said.size !== 1 || said.has('|')) return null;
  return { readBy: parts[0].readBy ?? null, readByWeights: parts[0].readByWeights ?? null };
}

async function train(argv: string[]): Promise<void> {
  const { values } = argsOf('train', () =>
    parseArgs({
      args: argv,
      options: {
        crops: { type: 'string', default: 'data/zero-o-crops' },
        epochs: { type: 'string', default: '3' },
        out: { type: 'string', default: 'models/zero-o-reader' },
        init: { type: 'string', default: '' },
        lr: { type: 'string', default: '1e-3' },
        flip: { type: 'boolean', default: false },
      },
    }),
  );
  const dir = values.crops!;
  const epochs = Number(values.epochs);
  const out = values.out!;
  // checked before the crops are read (hundreds of MB)
  if (!(Number.isInteger(epochs) && epochs >= 1)) throw new Error(`--epochs must be a whole number >= 1, got ${values.epochs}`);
  const lr = Number(values.lr);
  if (!(lr > 0 && Number.isFinite(lr))) throw new Error(`--lr must be a positive learning rate, got ${values.lr}`);
  const init = values.init!;
  // the reader is saved after every better epoch, the first included: it would replace the one it starts from
  if (init && path.resolve(init) === path.resolve(out)) throw new Error(`--init and --out are both ${out}; give another --out, so that the reader it starts from stays as it is`);
  const parts = readParts(dir);
  const readBy = cropsReadBy(parts, dir);
  if (!readBy) console.log(`note: some parts of ${dir} do not record the CRNN that read them; the reader's run.json will name none, and attach will not check it`);
  const validation = parts.pop()!;
  const trainCount = parts.length * PART;
  const valX = [cropsToTensor(validation.bytes, PART), tf.tensor2d(validation.logOdds, [PART, 1])];
  const valY = tf.tensor1d(validation.labels, 'float32');
  const crnnError = validation.labels.filter((l, i) => l !== validation.crnn[i]).length / PART;
  const priorError = validation.labels.filter((l, i) => l !== (validation.logOdds[i] > 0 ? 1 : 0)).length / PART;
  console.log(
    `${trainCount} training crops, ${PART} validation crops; the CRNN's reading confuses ${(100 * crnnError).toFixed(2)}% of the validation crops, ` +
      `the sign of its log-odds (where the reader starts) ${(100 * priorError).toFixed(2)}%`,
  );
  // --init continues a saved reader (its weights; the optimizer starts afresh).
  const reader = init ? await readLayersModel(init) : createZeroOReader(1);
  const flip = values.flip!;
  const order = createRng('zero-o-reader/order');
  let best = Infinity;
  const history: Array<{ epoch: number; error: number; seconds: number }> = [];
  const started = Date.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    // Adam at --lr, then a third of it for the last epoch.
    if (epoch === 1 || epoch === epochs) reader.compile({ optimizer: tf.train.adam(epoch < epochs || epochs === 1 ? lr : lr / 3), loss: 'binaryCrossentropy' });
    const indices = Array.from({ length: trainCount }, (_, i) => i);
    for (let i = indices.length - 1; i > 0; i--) {
      const j = order.randbelow(i + 1);
      [indices[i], indices[j]] = [indices[j], indices[i]];
    }
    for (let b = 0; b + BATCH <= trainCount; b += BATCH) {
      const batch = new Uint8Array(BATCH * CROP_BYTES);
      const labels = new Float32Array(BATCH);
      const prior = new Float32Array(BATCH);
      for (let k = 0; k < BATCH; k++) {
        const n = indices[b + k];
        const p = parts[Math.floor(n / PART)];
        batch.set(p.bytes.subarray((n % PART) * CROP_BYTES, (n % PART + 1) * CROP_BYTES), k * CROP_BYTES);
        labels[k] = p.labels[n % PART];
        prior[k] = p.logOdds[n % PART];
      }
      const seen = flip ? mirrorCrops(batch, () => order.random() < 0.5) : batch;
      const x = [cropsToTensor(seen, BATCH), tf.tensor2d(prior, [BATCH, 1])];
      const y = tf.tensor2d(labels, [BATCH, 1]);
      await reader.trainOnBatch(x, y);
      tf.dispose([...x, y]);
    }
    const wrong = tf.tidy(() => tf.notEqual(tf.greater((reader.predict(valX, { batchSize: 512 }) as tf.Tensor).reshape([-1]), 0.5).toFloat(), valY).toFloat().sum());
    const error = (await wrong.data())[0] / PART;
    wrong.dispose();
    const seconds = (Date.now() - started) / 1000;
    history.push({ epoch, error, seconds });
    console.log(`epoch ${epoch}: the reader confuses ${(100 * error).toFixed(2)}% of the validation crops (the CRNN ${(100 * crnnError).toFixed(2)}%), ${seconds.toFixed(0)} s`);
    if (error < best) {
      best = error;
      const run = { crops: dir, readBy: readBy?.readBy ?? null, readByWeights: readBy?.readByWeights ?? null, init: init || null, lr, flip, trainCrops: trainCount, validationCrops: PART, crnnValidationError: crnnError, priorValidationError: priorError, bestEpoch: epoch, history };
      await saveModel(
        reader,
        out,
        windowModelMetadata('zero-o-reader'),
        { 'run.json': JSON.stringify(run, null, 2) + '\n' },
      );
    }
  }
}

/** A model's P(O) for packed windows (and, for a reader, the CRNN's log-odds), in batches. */
async function probabilitiesOf(model: tf.LayersModel, bytes: Uint8Array, count: number, logOdds?: number[]): Promise<Float32Array> {
  const p = tf.tidy(() => {
    const x = cropsToTensor(bytes, count);
    return (model.predict(logOdds ? [x, tf.tensor2d(logOdds, [count, 1])] : x, { batchSize: 512 }) as tf.Tensor).reshape([-1]);
  });
  const out = (await p.data()) as Float32Array;
  p.dispose();
  return out;
}

const EXPERT_TRAIN_SEED = 'zero-o-window/train';
const EXPERT_VARIANT_SEED = 'zero-o-window/variant';

/**
 * The run.json of --from's expert, checked so that going on from it trains on the windows after the
 * ones it saw, drawn the same way: finished, the same --jitter, and --steps (the total) beyond its own.
 */
function expertToGoOnFrom(fromDir: string, steps: number, jitter: number): any {
  const from = jsonIn(fromDir, 'run.json');
  if (!from || typeof from.step !== 'number') throw new Error(`--from ${fromDir} holds no expert's run.json; give a folder written by 'expert'`);
  if (from.step !== from.steps) throw new Error(`--from ${fromDir} stopped at step ${from.step} of ${from.steps}; finish it first (run 'expert' with its --steps and --out)`);
  if (from.jitter !== jitter) throw new Error(`--from ${fromDir} was trained with --jitter ${from.jitter}; go on with the same`);
  if (steps <= from.step) throw new Error(`--steps is the total: ${steps} must be more than the ${from.step} steps --from ${fromDir} has trained (e.g. --steps ${2 * from.step})`);
  return from;
}

/**
 * What run.json keeps of the expert a run went on from: its folder and its run, less its history
 * (the new run's history starts with it).
 */
function goneOnFrom(fromDir: string, run: any): object {
  const { history: _history, ...rest } = run;
  return { dir: fromDir, ...rest };
}

/** A resume of `out` with --from is refused unless --from names the expert it went on from. */
function checkResumeFrom(out: string, previous: any, fromDir: string | undefined): void {
  if (fromDir === undefined) return;
  const dir = previous.from?.dir;
  if (dir === undefined || path.resolve(dir) !== path.resolve(fromDir)) {
    const what = previous.from ? `went on from ${dir ?? 'another expert'}` : 'was trained from scratch';
    throw new Error(`${out} holds an expert that ${what}, not from ${fromDir}; resume it without --from, or give another --out`);
  }
}

/**
 * The window expert (`createWindowExpert`): trained from scratch on windows drawn fresh every step
 * (`roundGlyphsInCaptchas`, texts of the training mix with one 0 or O, cut around the glyph's true
 * centre moved by up to --jitter px), no CTC model involved. Checkpointed every 250 steps with its
 * progress in run.json and Adam's state beside the weights; run again to resume, with the same
 * windows and Adam's state: the run goes on as if unbroken (`optimizerResumedAt` in run.json lists
 * those resumes; checkpoints written before 2026-12-02 hold no state, and their resumes started a
 * fresh Adam). `--until <step>` stops at that step with a
 * checkpoint: a part that fits a session.
 */
async function expert(argv: string[]): Promise<void> {
  const { values } = argsOf('expert', () =>
    parseArgs({
      args: argv,
      options: {
        steps: { type: 'string', default: '8000' },
        until: { type: 'string' },
        jitter: { type: 'string', default: '2' },
        from: { type: 'string' },
        validation: { type: 'string', default: 'data/zero-o-crops-fresh-1' },
        out: { type: 'string', default: 'models/zero-o-window-expert' },
      },
    }),
  );
  const steps = Number(values.steps);
  const jitter = Number(values.jitter);
  const out = values.out!;
  if (!(Number.isInteger(steps) && steps >= 4)) throw new Error(`--steps must be a whole number >= 4, got ${values.steps}`);
  if (!(Number.isInteger(jitter) && jitter >= 0)) throw new Error(`--jitter must be a whole number of px >= 0, got ${values.jitter}`);
  const until = values.until === undefined ? steps : Number(values.until);
  if (!(Number.isInteger(until) && until >= 1 && until <= steps)) throw new Error(`--until must be a whole step from 1 to --steps (${steps}), got ${values.until}`);
  if (values.from !== undefined && path.resolve(values.from) === path.resolve(out)) {
    throw new Error(`--from and --out are both ${out}; give another --out, so that the expert it goes on from stays as it is`);
  }
  const previous = jsonIn(out, 'run.json');
  if (previous && (previous.steps !== steps || previous.jitter !== jitter)) {
    throw new Error(`${out} holds an expert trained with --steps ${previous.steps} --jitter ${previous.jitter}; resume with those, or give another --out`);
  }
  if (previous) checkResumeFrom(out, previous, values.from);
  // Where training starts: this folder's checkpoint (a resume), or --from's finished expert, or nothing.
  const fromRun = !previous && values.from !== undefined ? expertToGoOnFrom(values.from, steps, jitter) : null;
  const from = previous ? previous.from ?? null : fromRun ? goneOnFrom(values.from!, fromRun) : null;
  // Monitoring only (nothing is selected by it): the last part of a crops folder, windows located by the CRNN.
  const [validation] = readParts(values.validation!, 'last');
  const start = previous ?? fromRun;
  const model = start ? await readLayersModel(previous ? out : values.from!) : createWindowExpert();
  // A copy: the run it started from is kept as it was.
  const history: Array<{ step: number; windows: number; validationError: number; seconds: number }> = [...(start?.history ?? [])];
  const resumes: number[] = previous?.resumes ?? [];
  const optimizerResumedAt: number[] = previous?.optimizerResumedAt ?? [];
  let step = start?.step ?? 0;
  if (step >= steps) return console.log(`${out} is trained (${step} steps); nothing to do`);
  if (step >= until) return console.log(`${previous ? out : values.from} is at step ${step}, not before --until ${until}; nothing to do`);
  if (previous) resumes.push(step);
  // A resume goes on with the checkpoint's Adam (a --from run starts its own schedule afresh).
  let savedOptimizer = previous ? readExpertOptimizer(out) : null;
  const started = Date.now();
  const elapsed = () => (start?.seconds ?? 0) + (Date.now() - started) / 1000;
  const lastQuarter = Math.round((3 * steps) / 4);
  const learningRateAt = (s: number) => (s > lastQuarter ? 3e-4 : 1e-3);
  let optimizer: tf.Optimizer | undefined;
  console.log(`${previous ? `resuming ${out} at step ${step}` : from ? `going on from ${values.from} at step ${step}` : `training ${out}`}: ${steps} steps of ${BATCH} fresh windows`);
  // Step s trains on batch s - 1 of the stream: windows (s - 1) x BATCH onwards, drawn ahead in a worker thread.
  const windowStream = createRoundGlyphStream({
    seed: EXPERT_TRAIN_SEED,
    batchSize: BATCH,
    drawingOf: (k) => ({ ...mixVariant(EXPERT_VARIANT_SEED, k + 1), jitter }),
    startBatch: step,
  });
  try {
    while (step < until) {
      step++;
      // Adam at 1e-3, then a new Adam at 3e-4 for the last quarter.
      if (!optimizer || step === lastQuarter + 1) {
        optimizer?.dispose();
        optimizer = tf.train.adam(learningRateAt(step));
        model.compile({ optimizer, loss: 'binaryCrossentropy' });
        if (savedOptimizer) {
          const sameRate = savedOptimizer.learningRate === learningRateAt(step);
          if (sameRate) await optimizer.setWeights(savedOptimizer.weights);
          // A checkpoint at the switch holds the 1e-3 Adam, which an unbroken run drops here too: exact either way.
          if (sameRate || step === lastQuarter + 1) optimizerResumedAt.push(step - 1);
          tf.dispose(savedOptimizer.weights.map((w) => w.tensor));
          savedOptimizer = null;
        }
      }
      const windows = await windowStream.next();
      const x = cropsToTensor(windows.crops, BATCH);
      const y = tf.tensor2d(windows.labels, [BATCH, 1], 'float32');
      await model.trainOnBatch(x, y);
      tf.dispose([x, y]);
      if (step % 250 === 0 || step === steps || step === until) {
        if (step % 1000 === 0 || step === steps) {
          const p = await probabilitiesOf(model, validation.bytes, PART);
          const validationError = validation.labels.filter((l, i) => l !== (p[i] > 0.5 ? 1 : 0)).length / PART;
          history.push({ step, windows: step * BATCH, validationError, seconds: Math.round(elapsed()) });
          console.log(`step ${step} (${step * BATCH} windows): the expert alone confuses ${(100 * validationError).toFixed(2)}% of ${values.validation}'s last part, ${elapsed().toFixed(0)} s`);
        }
        const run = { steps, jitter, batch: BATCH, trainSeed: EXPERT_TRAIN_SEED, variantSeed: EXPERT_VARIANT_SEED, validation: values.validation, step, windows: step * BATCH, seconds: Math.round(elapsed()), resumes, optimizerResumedAt, history, ...(from ? { from } : {}) };
        // Adam's state while the run has steps to go (a finished expert is gone on from with a fresh Adam).
        const state = step < steps ? await encodeOptimizerState(optimizer) : null;
        await saveModel(model, out, windowModelMetadata('zero-o-window-expert'), {
          'run.json': JSON.stringify(run, null, 2) + '\n',
          ...(state ? { [EXPERT_OPTIMIZER_BIN]: state.data, [EXPERT_OPTIMIZER_JSON]: JSON.stringify({ learningRate: learningRateAt(step), specs: state.specs }) } : {}),
        });
      }
    }
  } finally {
    await windowStream.close();
  }
  optimizer?.dispose();
  if (step < steps) console.log(`stopped at --until ${until} (checkpoint saved); run without --until, or with a later one, to go on`);
}

/** The Adam state saved with `dir`'s checkpoint, or null where it holds none (a checkpoint from before they were saved). */
function readExpertOptimizer(dir: string): { learningRate: number; weights: Array<{ name: string; tensor: tf.Tensor }> } | null {
  const [bin, json] = [EXPERT_OPTIMIZER_BIN, EXPERT_OPTIMIZER_JSON].map((f) => path.join(dir, f));
  const present = [bin, json].filter((f) => fs.existsSync(f)).length;
  if (present === 0) return null;
  try {
    if (present === 1) throw new Error('one of the two files is missing');
    const { learningRate, specs } = JSON.parse(fs.readFileSync(json, 'utf8')) as { learningRate: number; specs: tf.io.WeightsManifestEntry[] };
    return { learningRate, weights: decodeOptimizerState(fs.readFileSync(bin), specs) };
  } catch (err) {
    throw new Error(
      `${dir}'s Adam state (${EXPERT_OPTIMIZER_JSON}, ${EXPERT_OPTIMIZER_BIN}) is unreadable (${err instanceof Error ? err.message : String(err)}); ` +
        `delete those two files to resume with a fresh Adam (the weights are kept)`,
    );
  }
}

/**
 * A reader and a window expert as one reader (`withWindowExpert`): the expert's weight is the one
 * (0 to 2 by 0.05) with the least log-loss on every part of --fit but the last two, which are then
 * read as a check. The result is a reader (saved as one) that `attach` puts beside its CRNN.
 */
async function combine(argv: string[]): Promise<void> {
  const { values } = argsOf('combine', () =>
    parseArgs({
      args: argv,
      options: {
        reader: { type: 'string', default: 'models/zero-o-reader-alone' },
        expert: { type: 'string', default: 'models/zero-o-window-expert' },
        fit: { type: 'string', default: 'data/zero-o-crops-fresh-1' },
        out: { type: 'string', default: 'models/zero-o-reader-window' },
      },
    }),
  );
  const parts = readParts(values.fit!);
  if (parts.length < 3) throw new Error(`${values.fit} has ${parts.length} crop parts; combine fits on all but the last two, so it needs 3 or more`);
  const readBy = cropsReadBy(parts, values.fit!);
  const readerDir = values.reader!;
  const readerRun = jsonIn(readerDir, 'run.json');
  if (readBy?.readByWeights && readerRun?.readByWeights && readBy.readByWeights !== readerRun.readByWeights) {
    throw new Error(`${values.fit} was read by CRNN weights ${readBy.readByWeights}, and ${readerDir} corrects weights ${readerRun.readByWeights}: fit on crops of the reader's own CRNN`);
  }
  const reader = await readLayersModel(readerDir);
  const expertModel = await readLayersModel(values.expert!);
  const scored: Array<{ labels: number[]; crnn: number[]; reader: number[]; expert: number[] }> = [];
  for (const part of parts) {
    const r = await probabilitiesOf(reader, part.bytes, PART, part.logOdds);
    const e = await probabilitiesOf(expertModel, part.bytes, PART);
    scored.push({ labels: part.labels, crnn: part.crnn, reader: Array.from(r, logitOf), expert: Array.from(e, logitOf) });
  }
  const fitted = scored.slice(0, -2);
  const check = scored.slice(-2);
  const lossAt = (w: number, set: typeof scored) => {
    let [sum, n] = [0, 0];
    for (const s of set) {
      s.labels.forEach((l, i) => {
        const z = s.reader[i] + w * s.expert[i];
        // log(1 + e^-z) for the true class, written to stay finite
        const m = l === 1 ? -z : z;
        sum += m > 0 ? m + Math.log1p(Math.exp(-m)) : Math.log1p(Math.exp(m));
        n++;
      });
    }
    return sum / n;
  };
  const errorOf = (set: typeof scored, score: (s: (typeof scored)[number], i: number) => number) => {
    let [wrong, n] = [0, 0];
    for (const s of set) s.labels.forEach((l, i) => ((wrong += l !== (score(s, i) > 0 ? 1 : 0) ? 1 : 0), n++));
    return wrong / n;
  };
  const grid = Array.from({ length: 41 }, (_, k) => Number((k * 0.05).toFixed(2)));
  const losses = grid.map((w) => lossAt(w, fitted));
  // the first of the least (the smallest such weight)
  const weight = grid[losses.indexOf(Math.min(...losses))];
  const figures = (set: typeof scored) => ({
    windows: set.length * PART,
    crnn: errorOf(set, (s, i) => (s.crnn[i] === 1 ? 1 : -1)),
    reader: errorOf(set, (s, i) => s.reader[i]),
    expert: errorOf(set, (s, i) => s.expert[i]),
    combined: errorOf(set, (s, i) => s.reader[i] + weight * s.expert[i]),
  });
  const report = { fit: figures(fitted), check: figures(check) };
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  for (const [name, f] of Object.entries(report)) {
    console.log(`${name} (${f.windows} windows): CRNN ${pct(f.crnn)}, reader ${pct(f.reader)}, expert ${pct(f.expert)}, reader + ${weight} x expert ${pct(f.combined)}`);
  }
  const both = withWindowExpert(reader, expertModel, weight);
  // The saved model must read as the sum did: a check on the last part.
  const last = parts[parts.length - 1];
  const p = await probabilitiesOf(both, last.bytes, PART, last.logOdds);
  const expected = check[check.length - 1];
  const worst = Math.max(...Array.from(p, (q, i) => Math.abs(q - 1 / (1 + Math.exp(-(expected.reader[i] + weight * expected.expert[i]))))));
  if (worst > 1e-3) throw new Error(`the combined reader differs from the sum of its parts by up to ${worst} in P(O); not saved`);
  const expertRun = jsonIn(values.expert!, 'run.json');
  // The parts' own records come along whole: the reader's folder is often the one this replaces.
  const run = {
    reader: readerDir,
    expert: values.expert,
    weight,
    fitCrops: values.fit,
    readBy: readerRun?.readBy ?? null,
    readByWeights: readerRun?.readByWeights ?? null,
    ...report,
    readerRun,
    expertRun,
  };
  await saveModel(both, values.out!, windowModelMetadata('zero-o-reader'), { 'run.json': JSON.stringify(run, null, 2) + '\n' });
  console.log(`wrote ${values.out} (the reader and the expert at weight ${weight}); attach it with: attach --model-dir <a copy of the CRNN's folder> --reader ${values.out}`);
}

async function attach(argv: string[]): Promise<void> {
  const { values } = argsOf('attach', () =>
    parseArgs({
      args: argv,
      options: { 'model-dir': { type: 'string', default: '' }, reader: { type: 'string', default: 'models/zero-o-reader' }, 'any-model': { type: 'boolean', default: false } },
    }),
  );
  const modelDir = values['model-dir']!;
  const readerDir = values.reader!;
  if (!modelDir) throw new Error('attach needs --model-dir <the CTC model folder to read with the reader>');
  // Everything is checked and loaded before anything is written: a bad folder stops here.
  const { metadata } = await loadModel(modelDir);
  if (getModelSpec(metadata.architecture).head !== 'ctc' || !ROUND_PAIR.every((c) => metadata.alphabet.includes(c))) {
    throw new Error(`${modelDir} holds a '${metadata.architecture}' model of alphabet '${metadata.alphabet}'; the reader serves CTC models that read both 0 and O`);
  }
  const readerMeta = jsonIn(readerDir, 'metadata.json');
  if (readerMeta?.architecture !== 'zero-o-reader') throw new Error(`${readerDir} holds no zero-o-reader; train one first ('train --out ${readerDir}')`);
  (await readLayersModel(readerDir)).dispose();
  const readerRun = jsonIn(readerDir, 'run.json');
  const readBy: string | null = readerRun?.readBy ?? null;
  const readByWeights: string | null = readerRun?.readByWeights ?? null;
  // The weights say which CRNN it is; a run name, where they were not recorded (names are reused by --overwrite).
  const ours = readByWeights ? weightsId(modelDir) : null;
  const other = readByWeights ? readByWeights !== ours : Boolean(readBy && metadata.run && readBy !== metadata.run);
  if (other && !values['any-model']) {
    throw new Error(
      `${readerDir} learned to correct the CRNN of run '${readBy}'${readByWeights ? ` (weights ${readByWeights})` : ''}, and ${modelDir} holds ${readByWeights ? `weights ${ours} of ` : ''}run '${metadata.run}': ` +
        `it would correct a lean this model may not have. Make crops with this model ('crops --model-dir ${modelDir}') and train a reader on them, or pass --any-model to attach it anyway`,
    );
  }
  const files = Object.fromEntries(['model.json', 'weights.bin', 'metadata.json', 'run.json'].filter((f) => fs.existsSync(path.join(readerDir, f))).map((f) => [f, fs.readFileSync(path.join(readerDir, f))]));
  writeFolderAtomically(path.join(modelDir, READER_FOLDER), files);
  writeFileAtomic(path.join(modelDir, 'metadata.json'), `${JSON.stringify({ ...metadata, zeroOReader: READER_FOLDER }, null, 2)}\n`);
  console.log(`${modelDir} now reads each 0/O again with ${path.join(modelDir, READER_FOLDER)} (from ${readerDir}); --no-second-look reads without it`);
}

async function main(): Promise<void> {
  const [command, ...argv] = process.argv.slice(2);
  await startBackend({});
  if (command === 'crops') await crops(argv);
  else if (command === 'train') await train(argv);
  else if (command === 'attach') await attach(argv);
  else if (command === 'expert') await expert(argv);
  else if (command === 'combine') await combine(argv);
  else throw new Error(`unknown command '${command}'; use crops, train, attach, expert or combine (see the comment at the top of scripts/zero-o-reader.ts)`);
}

main().catch((err: unknown) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
