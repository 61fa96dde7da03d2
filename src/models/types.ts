import type { InitScheme } from './init';

/** What every model factory receives. Filled from `DEFAULT_MODEL_OPTIONS` and the model's input. */
export interface ModelOptions {
  /** Input image height in pixels. */
  height: number;
  /** Input image width in pixels. */
  width: number;
  /** 3 for RGB, 1 for grayscale. */
  channels: number;
  /** Classes per character (the alphabet size). @default 36 */
  numClasses: number;
  /** Characters per CAPTCHA, one softmax head each (per-position models). @default 4 */
  numPositions: number;
  /** Seed for weight initialisation and dropout masks. @default 1 */
  seed: number;
  /**
   * Weight initialisation scheme (src/models/init.ts), for architectures that list it in their
   * spec's `inits`; unset means the architecture's own.
   */
  init?: InitScheme;
}

/**
 * How a model reads a CAPTCHA: `per-position` models have one softmax head per character
 * (outputs [B, numClasses] each); `ctc` models emit a per-column distribution [B, T, classes + 1].
 */
export type HeadKind = 'per-position' | 'ctc';
