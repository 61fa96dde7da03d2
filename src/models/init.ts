/**
 * Weight initialisation schemes of the seed network (`init` in ModelOptions and the training
 * config). Whether the 2017 network leaves the chance plateau depends on how it starts: in the
 * PyTorch grid (docs/replication.md) 0 of 12 seeds left it with Glorot or He
 * initialisation, 2 of 8 with Mathematica 11.0's.
 *
 * - `he`: He (Kaiming) truncated normal for the ReLU convolutions, Glorot uniform for the softmax
 *   heads. The seed network's own default.
 * - `glorot`: Glorot (Xavier) uniform everywhere, Keras's default.
 * - `mathematica`: what Mathematica 11.0's `NetInitialize` does (the 2017 run): uniform U(-a, a)
 *   with a Xavier variant whose fan-in counts the receptive field (k·k·C_in) but whose fan-out is
 *   the number of output channels alone, variance 2/(fan_in + fan_out), doubled when a ReLU
 *   (`Ramp`) follows. Biases 0 in all three.
 */
import * as tf from '@tensorflow/tfjs';

export const INIT_SCHEMES = ['mathematica', 'he', 'glorot'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/**
 * Half-width `a` of Mathematica 11.0's uniform initialisation for a kernel of `shape`
 * (`[kh, kw, C_in, C_out]` for a convolution, `[in, out]` for a dense layer):
 * a = sqrt(3 · 2/(fan_in + fan_out) · (2 if a ReLU follows)), fan_in = the product of all but the
 * last dimension, fan_out = the last. A 3x3 convolution 3 -> 32 before a ReLU: sqrt(12/59) = 0.451.
 */
export function mathematicaLimit(shape: readonly number[], reluFollows: boolean): number {
  if (shape.length < 2 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new Error(`mathematicaLimit: kernel shape [${shape.join(', ')}] must have 2 or more positive dimensions`);
  }
  const fanOut = shape[shape.length - 1];
  const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return Math.sqrt((3 * 2 * (reluFollows ? 2 : 1)) / (fanIn + fanOut));
}

/**
 * Kernel initialisers of one scheme, one new seed per call (`seed`, `seed + 1`, ...), so a network
 * built layer by layer is a pure function of its seed. `reluFollows` says whether the layer feeds a
 * ReLU (convolutions) or a softmax (heads); `he` then means He normal or Glorot uniform.
 */
export function kernelInitializers(scheme: InitScheme, seed: number): (shape: readonly number[], reluFollows: boolean) => Initializer {
  let next = seed;
  return (shape, reluFollows) => {
    const layerSeed = next++;
    switch (scheme) {
      case 'mathematica': {
        const a = mathematicaLimit(shape, reluFollows);
        return tf.initializers.randomUniform({ minval: -a, maxval: a, seed: layerSeed });
      }
      case 'he':
        return reluFollows ? tf.initializers.heNormal({ seed: layerSeed }) : tf.initializers.glorotUniform({ seed: layerSeed });
      case 'glorot':
        return tf.initializers.glorotUniform({ seed: layerSeed });
      default: {
        const never: never = scheme;
        throw new Error(`unknown init '${String(never)}'; known: ${INIT_SCHEMES.join(', ')}`);
      }
    }
  };
}
