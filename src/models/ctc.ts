/**
 * Connectionist temporal classification (CTC) for TensorFlow.js: the loss, its gradient, greedy
 * decoding and label encoding. TensorFlow.js ships none of these.
 *
 * Conventions (those of Keras / TensorFlow `ctc_loss` with `blank_index = C - 1`):
 * - logits: float32 [B, T, C], unnormalised; C = alphabet size + 1, the blank is the last class.
 * - labels: on the host, one array of class indices in [0, C - 2] per example, of any length
 *   (`textsToCtcLabels`; `readCtcLabels` for Keras-style padded tensors).
 * - logitLengths (optional): on the host, the usable time steps of each example (default T for all).
 *
 * Nothing here reads a tensor synchronously (`dataSync`), which some backends cannot do (WebGPU in
 * Node): the loss takes its labels from the host, where they are built, and the decoders are async.
 *
 * The forward (alpha) recursion runs in log space over the extended label sequence
 * `blank l1 blank l2 ... lL blank` (S = 2 Lmax + 1 states), vectorised over the batch, one small
 * group of tensor ops per time step. log(0) is represented by a large finite negative number
 * (`LOG_ZERO`) rather than -Infinity so that `LOG_ZERO - LOG_ZERO = 0` and no NaN can appear in
 * the log-sum-exp or its gradient.
 */
import * as tf from '@tensorflow/tfjs';

/** Stands for log(0); finite so that max-shifted log-sum-exp never computes -Inf - -Inf. */
const LOG_ZERO = -1e30;

export interface CtcLossOptions {
  /**
   * How the gradient with respect to the logits is obtained.
   * - `'alpha-beta'`: the classic closed form (softmax(logits) minus the posterior state
   *   occupancy from the forward and backward recursions), registered with `tf.customGrad`.
   *   Faster on tfjs-node (docs/pretrained.md, "Speed (tfjs-node, 2 shared cores)", has the measurement).
   * - `'autodiff'`: TensorFlow.js differentiates through the forward recursion. Slower; kept as
   *   an independent check of the closed form.
   * @default 'alpha-beta'
   */
  gradient: 'alpha-beta' | 'autodiff';
  /**
   * Examples whose label cannot be aligned within their logit length (a label of length L with
   * R adjacent repeats needs L + R steps) have probability 0. Their loss is `Infinity`, or 0 when
   * this is true (PyTorch's `zero_infinity`). Their gradient is 0 either way.
   * @default false
   */
  zeroInfinity: boolean;
}

export const DEFAULT_CTC_LOSS_OPTIONS: CtcLossOptions = {
  gradient: 'alpha-beta',
  zeroInfinity: false,
};

/** Host-side description of a batch of labels, built once per call from the (small) host arrays. */
interface Extended {
  batch: number;
  /** Number of extended states, 2 Lmax + 1. */
  states: number;
  /** Steps each example uses. */
  steps: number[];
  /** Largest entry of `steps`: the recursions stop there. */
  maxSteps: number;
  /** One-hot of the extended label sequence, float32 [B, S, C]. */
  extOneHot: tf.Tensor3D;
  /** 0 where the state may be entered by skipping a blank (s-2 -> s), LOG_ZERO elsewhere, [B, S]. */
  skipAdd: tf.Tensor2D;
  /** 0 for states 0 and 1 (where a path may start), LOG_ZERO elsewhere, [B, S]. */
  initAdd: tf.Tensor2D;
  /** 0 for the last two states of each label (where a path may end), LOG_ZERO elsewhere, [B, S]. */
  finalAdd: tf.Tensor2D;
  /** 0 for states that exist (s < 2 L_b + 1), LOG_ZERO for padding states, [B, S]. */
  validAdd: tf.Tensor2D;
  /** Whether each example has a valid alignment at all. */
  possible: boolean[];
}

/** Class indices of each example's label, on the host: `labels[b]` is example b's label, any length. */
export type CtcLabels = ReadonlyArray<ArrayLike<number>>;

/** Validates the labels and step counts and builds the extended-label masks (on the host: they are tiny). */
function extendLabels(labels: CtcLabels, logits: tf.Tensor3D, logitLengths: ArrayLike<number> | undefined): Extended {
  if (logits.rank !== 3) {
    throw new Error(`ctcLoss: logits must be float32 [batch, time, classes], got shape [${logits.shape}]`);
  }
  const [batch, time, classes] = logits.shape;
  if (classes < 2) {
    throw new Error(`ctcLoss: logits need at least 2 classes (one symbol and the blank), got ${classes}`);
  }
  if (!Array.isArray(labels)) {
    throw new Error(
      'ctcLoss: labels must be an array of class-index arrays on the host, one per example; ' +
        'build them with textsToCtcLabels(texts, alphabet), or from int32 tensors with await readCtcLabels(labels, labelLengths)',
    );
  }
  if (labels.length !== batch) {
    throw new Error(`ctcLoss: ${labels.length} labels for a batch of ${batch} logits; give one label per example`);
  }
  if (logitLengths !== undefined && logitLengths.length !== batch) {
    throw new Error(`ctcLoss: logitLengths has ${logitLengths.length} entries for a batch of ${batch}; give one per example`);
  }
  const maxLabel = Math.max(0, ...labels.map((l) => l.length));
  const states = 2 * maxLabel + 1;
  const blank = classes - 1;
  const steps = logitLengths === undefined ? new Array<number>(batch).fill(time) : Array.from(logitLengths);

  const ext = new Int32Array(batch * states).fill(blank);
  const skipAdd = new Float32Array(batch * states).fill(LOG_ZERO);
  const initAdd = new Float32Array(batch * states).fill(LOG_ZERO);
  const finalAdd = new Float32Array(batch * states).fill(LOG_ZERO);
  const validAdd = new Float32Array(batch * states).fill(LOG_ZERO);
  const possible: boolean[] = [];
  for (let b = 0; b < batch; b++) {
    const label = labels[b];
    const len = label.length;
    if (!(Number.isInteger(steps[b]) && steps[b] >= 1 && steps[b] <= time)) {
      throw new Error(`ctcLoss: logitLengths[${b}] = ${steps[b]} must be an integer in [1, ${time}] (the logits' time dimension)`);
    }
    let repeats = 0;
    for (let i = 0; i < len; i++) {
      const c = label[i];
      if (!(Number.isInteger(c) && c >= 0 && c < blank)) {
        throw new Error(
          `ctcLoss: labels[${b}][${i}] = ${c} must be a class in [0, ${blank - 1}]; ` +
            `${blank} is the blank (the last of the logits' ${classes} classes)`,
        );
      }
      const s = 2 * i + 1;
      ext[b * states + s] = c;
      // A label may follow the previous one directly (skipping the blank between) unless it repeats it.
      if (i === 0 || c !== label[i - 1]) skipAdd[b * states + s] = 0;
      if (i > 0 && c === label[i - 1]) repeats++;
    }
    const used = 2 * len + 1;
    for (let s = 0; s < used; s++) validAdd[b * states + s] = 0;
    initAdd[b * states] = 0;
    if (len > 0) initAdd[b * states + 1] = 0;
    finalAdd[b * states + used - 1] = 0;
    if (len > 0) finalAdd[b * states + used - 2] = 0;
    possible.push(len + repeats <= steps[b]);
  }
  return tf.tidy(() => ({
    batch,
    states,
    steps,
    maxSteps: Math.max(...steps),
    extOneHot: tf.oneHot(tf.tensor2d(ext, [batch, states], 'int32'), classes) as tf.Tensor3D,
    skipAdd: tf.tensor2d(skipAdd, [batch, states]),
    initAdd: tf.tensor2d(initAdd, [batch, states]),
    finalAdd: tf.tensor2d(finalAdd, [batch, states]),
    validAdd: tf.tensor2d(validAdd, [batch, states]),
    possible,
  }));
}

function disposeExtended(e: Extended): void {
  tf.dispose([e.extOneHot, e.skipAdd, e.initAdd, e.finalAdd, e.validAdd]);
}

/** log(exp(a) + exp(b) + exp(c)), elementwise and stable (shifted by the maximum). */
function logSumExp3(a: tf.Tensor2D, b: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
  const m = tf.maximum(tf.maximum(a, b), c);
  const sum = tf.addN([tf.exp(tf.sub(a, m)), tf.exp(tf.sub(b, m)), tf.exp(tf.sub(c, m))]);
  return tf.add<tf.Tensor2D>(m, tf.log(sum));
}

/** Per-step boolean [B, 1]: does example b still run at step t? Only built when lengths differ. */
function activeAt(e: Extended, t: number): tf.Tensor2D {
  return tf.tensor2d(
    e.steps.map((n) => (t < n ? 1 : 0)),
    [e.batch, 1],
    'bool',
  );
}

/**
 * Log emission of every extended state at every step, [B, T, S]: log softmax of the logits read
 * at the state's class (a matmul with the one-hot, exact since all terms but one are 0), with
 * LOG_ZERO for padding states so that no path can wander into them.
 */
function emissions(logits: tf.Tensor3D, e: Extended): tf.Tensor3D {
  const logProbs = tf.logSoftmax(logits);
  const em = tf.matMul(logProbs, e.extOneHot, false, true) as tf.Tensor3D;
  return tf.add<tf.Tensor3D>(em, tf.expandDims(e.validAdd, 1));
}

/**
 * Forward recursion. Returns the log-likelihood of each label [B] and, when asked, every alpha
 * (the log probability of all path prefixes ending in state s at step t), [T', B, S] with
 * T' = maxSteps. Examples past their own length keep their last alpha.
 */
function forward(em: tf.Tensor3D, e: Extended, keepAlphas: boolean): { logLik: tf.Tensor1D; alphas?: tf.Tensor3D } {
  const perStep = tf.unstack(em, 1) as tf.Tensor2D[];
  const sameLength = e.steps.every((n) => n === e.maxSteps);
  let alpha = tf.add<tf.Tensor2D>(perStep[0], e.initAdd);
  const alphas: tf.Tensor2D[] = [alpha];
  for (let t = 1; t < e.maxSteps; t++) {
    // Shift right by one and two states (entering from s-1 and s-2), padding with log(0).
    const padded = tf.pad(alpha, [[0, 0], [2, 0]], LOG_ZERO);
    const fromPrev = tf.slice(padded, [0, 1], [e.batch, e.states]);
    const fromSkip = tf.add<tf.Tensor2D>(tf.slice(padded, [0, 0], [e.batch, e.states]), e.skipAdd);
    let next = tf.add<tf.Tensor2D>(logSumExp3(alpha, fromPrev, fromSkip), perStep[t]);
    if (!sameLength) next = tf.where(activeAt(e, t), next, alpha);
    alpha = next;
    if (keepAlphas) alphas.push(alpha);
  }
  const logLik = tf.logSumExp(tf.add(alpha, e.finalAdd), 1) as tf.Tensor1D;
  return { logLik, alphas: keepAlphas ? (tf.stack(alphas) as tf.Tensor3D) : undefined };
}

/**
 * Backward recursion: beta[t, b, s] is the log probability of completing the label from state s
 * at step t, *excluding* step t's own emission (so alpha + beta is the log probability of all
 * paths through (t, s)). Returns [T', B, S] with T' = maxSteps.
 */
function backward(em: tf.Tensor3D, e: Extended): tf.Tensor3D {
  const perStep = tf.unstack(em, 1) as tf.Tensor2D[];
  const sameLength = e.steps.every((n) => n === e.maxSteps);
  // Entering s+2 from s is allowed when skipping into s+2 is; shift that mask left by two.
  const skipIntoNext = tf.slice(tf.pad(e.skipAdd, [[0, 0], [0, 2]], LOG_ZERO), [0, 2], [e.batch, e.states]);
  let beta: tf.Tensor2D = e.finalAdd;
  const betas: tf.Tensor2D[] = [beta];
  for (let t = e.maxSteps - 2; t >= 0; t--) {
    const x = tf.add<tf.Tensor2D>(beta, perStep[t + 1]);
    const padded = tf.pad(x, [[0, 0], [0, 2]], LOG_ZERO);
    const toNext = tf.slice(padded, [0, 1], [e.batch, e.states]);
    const toSkip = tf.add<tf.Tensor2D>(tf.slice(padded, [0, 2], [e.batch, e.states]), skipIntoNext);
    let next = logSumExp3(x, toNext, toSkip);
    // Before an example's last step its beta follows the recursion; at and after it, beta is the
    // end condition (0 at the two final states).
    if (!sameLength) next = tf.where(activeAt(e, t + 1), next, e.finalAdd);
    beta = next;
    betas.push(beta);
  }
  return tf.stack(betas.reverse()) as tf.Tensor3D;
}

function possibleMask(e: Extended): tf.Tensor1D {
  return tf.tensor1d(e.possible.map((p) => (p ? 1 : 0)), 'bool');
}

/** -logLik where an alignment exists; Infinity (or 0) elsewhere, with a zero gradient there. */
function finishLoss(logLik: tf.Tensor1D, e: Extended, options: CtcLossOptions): tf.Tensor1D {
  const fill = tf.fill([e.batch], options.zeroInfinity ? 0 : Infinity);
  return tf.where(possibleMask(e), tf.neg(logLik), fill) as tf.Tensor1D;
}

function lossAutodiff(logits: tf.Tensor3D, e: Extended, options: CtcLossOptions): tf.Tensor1D {
  const { logLik } = forward(emissions(logits, e), e, false);
  return finishLoss(logLik, e, options);
}

function lossAlphaBeta(logits: tf.Tensor3D, e: Extended, options: CtcLossOptions): tf.Tensor1D {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const lg = args[0] as tf.Tensor3D;
    const save = args[1] as tf.GradSaveFunc;
    const em = emissions(lg, e);
    const { logLik, alphas } = forward(em, e, true);
    // The masks are disposed when ctcLoss returns; save() keeps copies for the backward pass.
    save([lg, em, alphas as tf.Tensor3D, logLik, e.extOneHot, e.skipAdd, e.finalAdd]);
    return {
      value: finishLoss(logLik, e, options),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [lgS, emS, alphasS, logLikS, extOneHot, skipAdd, finalAdd] = saved as [
          tf.Tensor3D,
          tf.Tensor3D,
          tf.Tensor3D,
          tf.Tensor1D,
          tf.Tensor3D,
          tf.Tensor2D,
          tf.Tensor2D,
        ];
        const es: Extended = { ...e, extOneHot, skipAdd, finalAdd };
        const [batch, time, classes] = lgS.shape;
        const ok = possibleMask(es);
        // Impossible examples have logLik ~ LOG_ZERO; replacing it by 0 keeps exp() below finite.
        const safeLogLik = tf.where(ok, logLikS, tf.zerosLike(logLikS));
        const betas = backward(emS, es);
        // Posterior occupancy of each state, [T', B, S] -> [B, T', S], then summed per class.
        const logPost = tf.sub(tf.add(alphasS, betas), tf.reshape(safeLogLik, [1, batch, 1]));
        const post = tf.transpose(tf.exp(logPost), [1, 0, 2]);
        let occupancy = tf.matMul(post, extOneHot) as tf.Tensor3D;
        if (es.maxSteps < time) {
          occupancy = tf.pad(occupancy, [[0, 0], [0, time - es.maxSteps], [0, 0]]);
        }
        const stepMask = tf.tensor3d(
          es.steps.flatMap((n) => Array.from({ length: time }, (_, t) => (t < n ? 1 : 0))),
          [batch, time, 1],
        );
        const scale = tf.mul(tf.reshape(dy, [batch, 1, 1]), tf.reshape(tf.cast(ok, 'float32'), [batch, 1, 1]));
        const grad = tf.mul(tf.sub(tf.softmax(lgS), occupancy), tf.mul(stepMask, scale));
        return [grad.reshape([batch, time, classes])];
      },
    };
  });
  return f(logits) as tf.Tensor1D;
}

/**
 * CTC loss: the negative log-likelihood of each label sequence under the per-step class
 * distributions softmax(logits), summed over all alignments (paths that collapse to the label
 * after merging repeats and removing blanks).
 *
 * @param labels on the host, one array of class indices in [0, C - 2] per example, any lengths
 *   (`textsToCtcLabels`; `await readCtcLabels(labels, labelLengths)` for padded int32 tensors)
 * @param logits float32 [B, T, C], unnormalised scores; the blank is class C - 1
 * @param logitLengths on the host, the steps each example uses, each in [1, T]; default T for all
 * @returns float32 [B], -log p(label | logits); `Infinity` (or 0, see `zeroInfinity`) where the
 *   label cannot fit in the steps. Differentiable with respect to `logits`.
 *
 * The labels and lengths come from the host, where they are built, because the state masks are
 * built there: reading tensors here would need a synchronous read, which some backends (WebGPU
 * in Node) cannot do, and this function must stay synchronous to run inside `optimizer.minimize`.
 * The logits stay on the backend.
 */
export function ctcLoss(
  labels: CtcLabels,
  logits: tf.Tensor3D,
  logitLengths?: ArrayLike<number>,
  options: Partial<CtcLossOptions> = {},
): tf.Tensor1D {
  const opts: CtcLossOptions = { ...DEFAULT_CTC_LOSS_OPTIONS, ...options };
  if (logits.dtype !== 'float32') {
    throw new Error(`ctcLoss: logits must be float32, got ${logits.dtype}`);
  }
  const e = extendLabels(labels, logits, logitLengths);
  try {
    switch (opts.gradient) {
      case 'alpha-beta':
        return tf.tidy(() => lossAlphaBeta(logits, e, opts));
      case 'autodiff':
        return tf.tidy(() => lossAutodiff(logits, e, opts));
      default:
        throw new Error(`ctcLoss: gradient '${String(opts.gradient)}' is not one of 'alpha-beta', 'autodiff'`);
    }
  } finally {
    disposeExtended(e);
  }
}

/**
 * Keras-style padded label tensors read back to host labels for `ctcLoss` (asynchronously, so it
 * works on every backend).
 * @param labels int32 [B, Lmax], padded after each label's length with any value (never read)
 * @param labelLengths int32 [B], each in [0, Lmax]
 */
export async function readCtcLabels(labels: tf.Tensor2D, labelLengths: tf.Tensor1D): Promise<number[][]> {
  if (labels.rank !== 2) throw new Error(`readCtcLabels: labels must have shape [batch, maxLabelLength], got [${labels.shape}]`);
  const [batch, maxLabel] = labels.shape;
  for (const [t, name, fix] of [
    [labels, 'labels', 'cast them with labels.toInt()'],
    [labelLengths, 'labelLengths', "create them with tf.tensor1d(values, 'int32')"],
  ] as const) {
    if (t.dtype !== 'int32') throw new Error(`readCtcLabels: ${name} must be int32, got ${t.dtype}; ${fix}`);
  }
  if (labelLengths.rank !== 1 || labelLengths.shape[0] !== batch) {
    throw new Error(`readCtcLabels: labelLengths must have shape [${batch}] (one entry per example), got [${labelLengths.shape}]`);
  }
  const [values, lengths] = await Promise.all([labels.data(), labelLengths.data()]);
  return Array.from(lengths, (len, b) => {
    if (!(len >= 0 && len <= maxLabel)) {
      throw new Error(`readCtcLabels: labelLengths[${b}] = ${len} must be in [0, ${maxLabel}] (the labels' second dimension)`);
    }
    return Array.from(values.subarray(b * maxLabel, b * maxLabel + len));
  });
}

/** Merges repeats and drops blanks from a frame path of class indices. */
function collapsePath(path: ArrayLike<number>, steps: number, blank: number): number[] {
  const seq: number[] = [];
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const c = path[t];
    if (c !== prev && c !== blank) seq.push(c);
    prev = c;
  }
  return seq;
}

/**
 * Best-path (greedy) decoding: the most likely class at each step, repeats merged, blanks dropped.
 * Asynchronous: the arg-max is read back with `data()`, which every backend supports.
 *
 * @param logits float32 [B, T, C] (scores or probabilities; only the argmax matters); blank = C - 1
 * @param logitLengths optional int32 [B] or numbers: the steps each example uses (default T)
 * @returns for each example, the decoded class indices (each in [0, C - 2])
 */
export async function ctcGreedyDecode(logits: tf.Tensor3D, logitLengths?: tf.Tensor1D | ArrayLike<number>): Promise<number[][]> {
  if (logits.rank !== 3) {
    throw new Error(`ctcGreedyDecode: logits must be [batch, time, classes], got shape [${logits.shape}]`);
  }
  const [batch, time, classes] = logits.shape;
  const best = tf.tidy(() => tf.argMax(logits, 2));
  let ids: tf.TypedArray;
  try {
    ids = (await best.data()) as tf.TypedArray;
  } finally {
    best.dispose();
  }
  const lengths = logitLengths instanceof tf.Tensor ? await logitLengths.data() : logitLengths;
  return Array.from({ length: batch }, (_, b) =>
    collapsePath(ids.subarray(b * time, (b + 1) * time), lengths === undefined ? time : Math.min(time, lengths[b]), classes - 1),
  );
}

/** What a decoded text may be: its length range and, optionally, no character twice. */
export interface TextRules {
  min: number;
  max: number;
  /** No character more than once (texts drawn like the experiment's, `random.sample`). */
  distinct?: boolean;
}

/** Beam width of the search under `distinct`: exact for small alphabets and lengths, near-exact beyond. */
export const DISTINCT_BEAM_WIDTH = 64;

/**
 * Best-path decoding restricted to texts that follow `rules`.
 *
 * Greedy decoding picks the best symbol per frame; when the collapsed text of that path follows
 * the rules it is also the answer here. When it does not (a character dropped between two
 * similar frames, one read twice, the same letter read for an O and a 0), this finds the most
 * probable path among those whose text follows them: a model trained on 4 distinct characters
 * should not answer 3, 5, or "OO". The length range is exact (a Viterbi pass over states
 * "characters so far, symbol of this frame"); distinct characters are searched with a beam of
 * `DISTINCT_BEAM_WIDTH` prefixes, only for the examples whose best length-valid text repeats a
 * character. Path scores are sums of logits over frames; the per-frame softmax normaliser is the
 * same for every path, so logits rank paths exactly like log-probabilities.
 *
 * Asynchronous: the logits are read back with `data()`, which every backend supports.
 *
 * @param logits float32 [B, T, C], class C - 1 the blank
 * @returns for each example, the decoded class indices (each in [0, C - 2])
 */
export async function ctcConstrainedDecode(logits: tf.Tensor3D, rules: TextRules): Promise<number[][]> {
  if (logits.rank !== 3) {
    throw new Error(`ctcConstrainedDecode: logits must be [batch, time, classes], got shape [${logits.shape}]`);
  }
  const [batch, time, classes] = logits.shape;
  const { min, max } = rules;
  if (!(Number.isInteger(min) && Number.isInteger(max) && min >= 0 && max >= min)) {
    throw new Error(`text length range ${min}..${max} is invalid; need integers 0 <= min <= max`);
  }
  if (min > time) throw new Error(`texts of ${min} characters cannot come out of ${time} frames`);
  if (rules.distinct && min > classes - 1) {
    throw new Error(`texts of ${min} distinct characters cannot be drawn from ${classes - 1} classes`);
  }
  const values = (await logits.data()) as Float32Array;
  const out: number[][] = [];
  for (let b = 0; b < batch; b++) {
    const x = values.subarray(b * time * classes, (b + 1) * time * classes);
    const best = constrainedBestPath(x, time, classes, min, max);
    const repeats = new Set(best).size < best.length;
    out.push(rules.distinct && repeats ? distinctBeamPath(x, time, classes, min, max, DISTINCT_BEAM_WIDTH) : best);
  }
  return out;
}

/**
 * Best-path beam search over text prefixes that never repeat a character: each state is a
 * prefix and the symbol of the current frame, scored by its best path.
 */
function distinctBeamPath(x: Float32Array | Int32Array | Uint8Array, time: number, classes: number, min: number, max: number, width: number): number[] {
  const blank = classes - 1;
  interface State { prefix: number[]; last: number; score: number }
  const key = (prefix: number[], last: number) => `${prefix.join(',')}|${last}`;
  let beam = new Map<string, State>();
  const offer = (into: Map<string, State>, prefix: number[], last: number, score: number) => {
    const k = key(prefix, last);
    const had = into.get(k);
    if (!had || score > had.score) into.set(k, { prefix, last, score });
  };
  offer(beam, [], blank, x[blank]);
  for (let s = 0; s < blank; s++) if (max >= 1) offer(beam, [s], s, x[s]);
  for (let t = 1; t < time; t++) {
    const next = new Map<string, State>();
    const row = t * classes;
    const framesLeft = time - 1 - t;
    for (const { prefix, last, score } of beam.values()) {
      offer(next, prefix, blank, score + x[row + blank]);
      for (let s = 0; s < blank; s++) {
        if (s === last) {
          offer(next, prefix, s, score + x[row + s]);
        } else if (prefix.length < max && !prefix.includes(s)) {
          offer(next, [...prefix, s], s, score + x[row + s]);
        }
      }
    }
    // keep the best `width` states that can still reach `min` characters
    beam = new Map(
      [...next.entries()]
        .filter(([, st]) => st.prefix.length + framesLeft >= min)
        .sort((a, b) => b[1].score - a[1].score)
        .slice(0, width),
    );
  }
  let best: State | undefined;
  for (const st of beam.values()) {
    if (st.prefix.length >= min && (!best || st.score > best.score)) best = st;
  }
  if (!best) throw new Error(`no path of ${time} frames decodes to ${min}..${max} distinct characters`);
  return best.prefix;
}

/** Viterbi over states (characters emitted so far n, symbol of this frame s); see above. */
function constrainedBestPath(x: Float32Array | Int32Array | Uint8Array, time: number, classes: number, min: number, max: number): number[] {
  const blank = classes - 1;
  const states = (max + 1) * classes;
  const at = (n: number, s: number) => n * classes + s;
  let score = new Float64Array(states).fill(-Infinity);
  let next = new Float64Array(states);
  // back[t * states + state] = the previous frame's state
  const back = new Int32Array(time * states).fill(-1);
  score[at(0, blank)] = x[blank];
  for (let s = 0; s < blank; s++) if (max >= 1) score[at(1, s)] = x[s];
  for (let t = 1; t < time; t++) {
    next.fill(-Infinity);
    const row = t * classes;
    for (let n = 0; n <= max; n++) {
      // best and second-best state of the previous frame with n characters, to exclude one symbol in O(1)
      let best = -1;
      let second = -1;
      for (let s = 0; s < classes; s++) {
        const v = score[at(n, s)];
        if (v === -Infinity) continue;
        if (best < 0 || v > score[at(n, best)]) {
          second = best;
          best = s;
        } else if (second < 0 || v > score[at(n, second)]) {
          second = s;
        }
      }
      if (best < 0) continue;
      // a blank keeps n
      const blankScore = score[at(n, best)] + x[row + blank];
      if (blankScore > next[at(n, blank)]) {
        next[at(n, blank)] = blankScore;
        back[t * states + at(n, blank)] = at(n, best);
      }
      for (let s = 0; s < blank; s++) {
        // the same symbol again keeps n (repeats collapse)
        const stay = score[at(n, s)];
        if (stay !== -Infinity && stay + x[row + s] > next[at(n, s)]) {
          next[at(n, s)] = stay + x[row + s];
          back[t * states + at(n, s)] = at(n, s);
        }
        // any other previous symbol (or a blank) starts character n + 1
        if (n + 1 > max) continue;
        const from = best !== s ? best : second;
        if (from < 0) continue;
        const v = score[at(n, from)] + x[row + s];
        if (v > next[at(n + 1, s)]) {
          next[at(n + 1, s)] = v;
          back[t * states + at(n + 1, s)] = at(n, from);
        }
      }
    }
    [score, next] = [next, score];
  }
  let end = -1;
  for (let n = min; n <= max; n++) {
    for (let s = 0; s < classes; s++) {
      const v = score[at(n, s)];
      if (v !== -Infinity && (end < 0 || v > score[end])) end = at(n, s);
    }
  }
  if (end < 0) throw new Error(`no path of ${time} frames decodes to ${min}..${max} characters`);
  const path = new Array<number>(time);
  for (let t = time - 1, state = end; t >= 0; t--) {
    path[t] = state % classes;
    state = back[t * states + state];
  }
  return collapsePath(path, time, blank);
}

/** Maps decoded class indices to text: index i is `alphabet[i]`. */
export function ctcIndicesToText(sequences: number[][], alphabet: string): string[] {
  return sequences.map((seq) =>
    seq
      .map((i) => {
        if (!(i >= 0 && i < alphabet.length)) {
          throw new Error(`class index ${i} is outside the alphabet '${alphabet}' (length ${alphabet.length})`);
        }
        return alphabet[i];
      })
      .join(''),
  );
}

/**
 * Encodes texts as CTC labels on the host, ready for `ctcLoss`.
 * @param texts the labels, any lengths (the empty string is allowed)
 * @param alphabet the characters; character alphabet[i] becomes class i
 * @returns one array of class indices per text
 */
export function textsToCtcLabels(texts: readonly string[], alphabet: string): number[][] {
  return texts.map((text) =>
    text.split('').map((ch) => {
      const c = alphabet.indexOf(ch);
      if (c < 0) throw new Error(`label '${text}' has character '${ch}', which is not in the alphabet '${alphabet}'`);
      return c;
    }),
  );
}

/**
 * Encodes texts as Keras-style padded CTC label tensors (for other CTC implementations;
 * `ctcLoss` takes `textsToCtcLabels`' host arrays).
 * @param texts the labels, any lengths (the empty string is allowed)
 * @param alphabet the characters; character alphabet[i] becomes class i
 * @param maxLength width of the padded labels; default the longest text
 * @returns labels int32 [B, maxLength] (padded with 0) and labelLengths int32 [B]
 */
export function encodeCtcLabels(
  texts: string[],
  alphabet: string,
  maxLength?: number,
): { labels: tf.Tensor2D; labelLengths: tf.Tensor1D } {
  const width = maxLength ?? Math.max(1, ...texts.map((t) => t.length));
  const tooLong = texts.find((t) => t.length > width);
  if (tooLong !== undefined) {
    throw new Error(`label '${tooLong}' has ${tooLong.length} characters, more than maxLength=${width}; raise maxLength`);
  }
  const data = new Int32Array(texts.length * width);
  textsToCtcLabels(texts, alphabet).forEach((label, b) => data.set(label, b * width));
  return {
    labels: tf.tensor2d(data, [texts.length, width], 'int32'),
    labelLengths: tf.tensor1d(
      texts.map((t) => t.length),
      'int32',
    ),
  };
}
