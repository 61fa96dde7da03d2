/**
 * tfjs's Adam update as one native `ResourceApplyAdam` per variable.
 *
 * tfjs computes Adam with about a dozen element-wise ops per variable, each a full pass over the
 * weights that allocates its result. TensorFlow has the whole update as one in-place kernel, but
 * only for resource variables; so each weight, first and second moment gets a native resource
 * variable. The tfjs variables stay the source of truth: before the update a resource is
 * re-uploaded whenever its tfjs variable holds other data than we left in it (restored
 * checkpoint, `setWeights`, a plain step in between), and after it the tfjs weight and the
 * optimizer's moment variables are pointed at the new values (a read shares the buffer, and
 * TensorFlow copies on the next write while a reader holds it). `optimizer.getWeights()`,
 * `iterations` and the bias-correction powers therefore stay what tfjs's own update would leave.
 *
 * Same maths: TensorFlow computes `var -= lr·sqrt(1-β2ᵗ)/(1-β1ᵗ) · m / (sqrt(v) + ε')`; with
 * ε' = ε·sqrt(1-β2ᵗ) that is tfjs's `var -= lr · m̂ / (sqrt(v̂) + ε)`.
 */
import * as tf from '@tensorflow/tfjs';
import { attrs as attrBuilder, requireNativeBackend, type NativeAttr, type NativeBackend } from './native';

/** The fields of tfjs's AdamOptimizer that its update reads and writes. */
interface AdamFields {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  accumulatedSecondMoment: Array<{ originalName: string; variable: tf.Variable } | undefined>;
  incrementIterations(): void;
}

function isAdam(optimizer: tf.Optimizer): boolean {
  if (!(optimizer instanceof tf.AdamOptimizer)) return false;
  const f = optimizer as unknown as Partial<AdamFields>;
  return (
    typeof f.learningRate === 'number' &&
    typeof f.beta1 === 'number' &&
    typeof f.beta2 === 'number' &&
    typeof f.epsilon === 'number' &&
    f.accBeta1 instanceof tf.Variable &&
    f.accBeta2 instanceof tf.Variable &&
    Array.isArray(f.accumulatedFirstMoment) &&
    Array.isArray(f.accumulatedSecondMoment) &&
    typeof f.incrementIterations === 'function'
  );
}

/** Shared name that makes VarHandleOp create a fresh, unshared resource on every call. */
const ANONYMOUS_RESOURCE = 'cd2c89b7-88b7-44c8-ad83-06c2a9158347';

/** A native resource variable mirroring one tfjs variable. */
interface Mirror {
  handle: tf.Tensor;
  /** The tfjs variable and the data it held when the resource last matched it. */
  variable?: tf.Variable;
  dataId?: object;
}

interface Slot {
  name: string;
  shape: number[];
  weight: Mirror;
  m: Mirror;
  v: Mirror;
}

/**
 * Frees the native variables of an update that was dropped without `dispose()` (e.g. a training
 * step made in a test and forgotten): they live in TensorFlow's resource manager, not in tfjs.
 */
const finalizer = new FinalizationRegistry<() => void>((free) => {
  try {
    free();
  } catch {
    // The backend may be gone at exit; nothing left to free then.
  }
});

/** Applies gradients (keyed by variable name, in tfjs's slot order) like `optimizer.applyGradients`. */
export type FusedUpdate = ((grads: tf.NamedTensorMap) => void) & {
  /** Frees the native resource variables. The optimizer itself is untouched. */
  dispose(): void;
};

/**
 * A fused replacement of `optimizer.applyGradients` when `optimizer` is tfjs's Adam and the
 * backend is tfjs-node; undefined otherwise (the caller keeps the optimizer's own update).
 */
export function createFusedAdam(optimizer: tf.Optimizer): FusedUpdate | undefined {
  if (!isAdam(optimizer)) return undefined;
  const opt = optimizer as unknown as AdamFields;
  const b: NativeBackend = requireNativeBackend();
  const a = attrBuilder(b.binding);
  const floatType: NativeAttr[] = [a.dtype('dtype', 'float32')];
  const applyAttrs: NativeAttr[] = [a.dtype('T', 'float32'), a.bool('use_locking', false), a.bool('use_nesterov', false)];
  const slots: Slot[] = [];

  const newMirror = (shape: number[]): Mirror => ({
    handle: tf.keep(
      b.executeSingleOutput(
        'VarHandleOp',
        [
          a.dtype('dtype', 'float32'),
          a.shape('shape', shape),
          a.string('container', ''),
          a.string('shared_name', ANONYMOUS_RESOURCE),
        ],
        [],
      ),
    ),
  });
  const destroy = (m: Mirror) => {
    b.executeMultipleOutputs('DestroyResourceOp', [a.bool('ignore_lookup_error', true)], [m.handle], 0);
    m.handle.dispose();
  };
  const upload = (m: Mirror, variable: tf.Variable) => {
    if (m.variable === variable && m.dataId === variable.dataId) return;
    b.executeMultipleOutputs('AssignVariableOp', floatType, [m.handle, variable], 0);
    m.variable = variable;
    m.dataId = variable.dataId;
  };
  const download = (m: Mirror, variable: tf.Variable) => {
    const value = b.executeSingleOutput('ReadVariableOp', floatType, [m.handle]);
    variable.assign(value);
    value.dispose();
    m.variable = variable;
    m.dataId = variable.dataId;
  };
  const moment = (
    list: AdamFields['accumulatedFirstMoment'],
    i: number,
    name: string,
    value: tf.Variable,
  ): tf.Variable => {
    let entry = list[i];
    if (entry == null) {
      // As tfjs creates them: zeros, not trainable, named after the weight.
      entry = { originalName: name, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      list[i] = entry;
    }
    return entry.variable;
  };

  const update = (grads: tf.NamedTensorMap) => {
    const names = Object.keys(grads);
    tf.tidy(() => {
      const lr = tf.scalar(opt.learningRate);
      const beta1 = tf.scalar(opt.beta1);
      const beta2 = tf.scalar(opt.beta2);
      const epsilon = tf.mul(opt.epsilon, tf.sqrt(tf.sub(1, opt.accBeta2)));
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        const m = moment(opt.accumulatedFirstMoment, i, `${name}/m`, value);
        const v = moment(opt.accumulatedSecondMoment, i, `${name}/v`, value);
        const grad = grads[name];
        if (grad == null) return;
        let slot = slots[i];
        if (slot && (slot.name !== name || !tf.util.arraysEqual(slot.shape, value.shape))) {
          [slot.weight, slot.m, slot.v].forEach(destroy);
          slot = undefined as unknown as Slot;
        }
        if (!slot) {
          slot = { name, shape: value.shape, weight: newMirror(value.shape), m: newMirror(value.shape), v: newMirror(value.shape) };
          slots[i] = slot;
        }
        upload(slot.weight, value);
        upload(slot.m, m);
        upload(slot.v, v);
        b.executeMultipleOutputs(
          'ResourceApplyAdam',
          applyAttrs,
          [slot.weight.handle, slot.m.handle, slot.v.handle, opt.accBeta1, opt.accBeta2, lr, beta1, beta2, epsilon, grad],
          0,
        );
        download(slot.weight, value);
        download(slot.m, m);
        download(slot.v, v);
      });
      opt.accBeta1.assign(tf.mul(opt.accBeta1, opt.beta1));
      opt.accBeta2.assign(tf.mul(opt.accBeta2, opt.beta2));
    });
    opt.incrementIterations();
  };
  const free = () => {
    for (const slot of slots) if (slot) [slot.weight, slot.m, slot.v].forEach(destroy);
    slots.length = 0;
  };
  const fused = Object.assign(update, {
    dispose: () => {
      free();
      finalizer.unregister(fused);
    },
  });
  finalizer.register(fused, free, fused);
  return fused;
}
