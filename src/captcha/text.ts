/** Random CAPTCHA texts, drawn as the experiment drew them: 4 distinct characters from 0-9A-Z. */
import type { RandomSource } from './rng';
import { withDefaults } from '../options';

export interface RandomTextOptions {
  /**
   * Characters per text: a number, or `[min, max]` (inclusive) for variable-length texts
   * (CTC models). The length is drawn first, uniformly.
   * @default 4
   */
  length?: number | readonly [number, number];
  /** Characters to draw from; ranges such as `0-9A-Z` are expanded (see {@link expandAlphabet}). @default '0-9A-Z' */
  alphabet?: string;
  /** Draw without repeats, as in the experiment (`random.sample`). @default true */
  unique?: boolean;
}

export const DEFAULT_RANDOM_TEXT_OPTIONS: Required<RandomTextOptions> = {
  length: 4,
  alphabet: '0-9A-Z',
  unique: true,
};

/**
 * Expands a character-set spec: `a-b` stands for every code point from a to b; a `-` first or
 * last is literal. `'0-9A-Z'` -> `'0123...9AB...Z'`. Duplicates and descending ranges are errors.
 */
export function expandAlphabet(spec: string): string {
  if (typeof spec !== 'string' || spec.length === 0) {
    throw new Error(`alphabet must be a non-empty string such as '0-9A-Z', got ${JSON.stringify(spec)}`);
  }
  const chars = Array.from(spec);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (i + 2 < chars.length && chars[i + 1] === '-') {
      const from = chars[i].codePointAt(0)!;
      const to = chars[i + 2].codePointAt(0)!;
      if (to < from) {
        throw new Error(`alphabet range '${chars[i]}-${chars[i + 2]}' runs backwards; write '${chars[i + 2]}-${chars[i]}'`);
      }
      for (let c = from; c <= to; c++) out.push(String.fromCodePoint(c));
      i += 2;
    } else {
      out.push(chars[i]);
    }
  }
  const seen = new Set<string>();
  for (const c of out) {
    if (seen.has(c)) throw new Error(`alphabet '${spec}' contains '${c}' twice; list each character once`);
    if (/\s/.test(c)) throw new Error(`alphabet '${spec}' contains whitespace; CAPTCHA characters must be visible`);
    const kind = undrawable(c);
    if (kind) {
      throw new Error(
        `alphabet ${JSON.stringify(spec)} contains ${codePoint(c)}, ${kind}, which the generator cannot draw as a character ` +
          'of its own; use only visible characters that stand alone (letters, digits, symbols)',
      );
    }
    seen.add(c);
  }
  return out.join('');
}

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Why a character cannot be one glyph of a CAPTCHA, or null: the generator draws each character
 * alone, so a combining mark (e.g. U+0301, an accent for the previous letter) draws nothing,
 * and control, format, separator, surrogate and unassigned code points have no glyph of their own.
 */
function undrawable(c: string): string | null {
  if (/\p{M}/u.test(c)) return 'a combining mark (it only decorates the character before it)';
  if (/\p{Cc}/u.test(c)) return 'a control character';
  if (/\p{Cf}/u.test(c)) return 'an invisible format character';
  if (/\p{Z}/u.test(c)) return 'a space or separator';
  if (/\p{Cs}/u.test(c)) return 'half of a surrogate pair';
  if (/\p{Cn}/u.test(c)) return 'an unassigned code point';
  return null;
}

/** Checked `[min, max]` length bounds of a text option. */
export function lengthRange(length: number | readonly [number, number]): [number, number] {
  const [min, max] = typeof length === 'number' ? [length, length] : length;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
    throw new Error(
      `text length must be a positive integer or [min, max] with 1 <= min <= max, got ${JSON.stringify(length)}`,
    );
  }
  return [min, max];
}

/** Checks text options once; returns them filled in, with the alphabet expanded. */
export function resolveTextOptions(options: RandomTextOptions = {}): Required<RandomTextOptions> & { chars: string[] } {
  const o = withDefaults(DEFAULT_RANDOM_TEXT_OPTIONS, options);
  const alphabet = expandAlphabet(o.alphabet);
  const chars = Array.from(alphabet);
  const [, max] = lengthRange(o.length);
  if (o.unique && max > chars.length) {
    throw new Error(
      `cannot draw ${max} distinct characters from the ${chars.length} of '${o.alphabet}'; ` +
        'shorten the text, enlarge the alphabet or allow repeats',
    );
  }
  return { ...o, alphabet, chars };
}

/** A random text. Draw order: length (only for a range), then one draw per character. */
export function randomText(rng: RandomSource, options: RandomTextOptions = {}): string {
  const { length, unique, chars } = resolveTextOptions(options);
  return drawText(rng, lengthRange(length), unique, chars);
}

/** {@link randomText} on pre-checked options (hot path of datasets and streams). */
export function drawText(rng: RandomSource, [min, max]: [number, number], unique: boolean, chars: readonly string[]): string {
  const n = min === max ? min : min + rng.randbelow(max - min + 1);
  if (!unique) {
    let s = '';
    for (let i = 0; i < n; i++) s += chars[rng.randbelow(chars.length)];
    return s;
  }
  // Partial Fisher-Yates: the first n slots become a uniform sample without replacement.
  const pool = chars.slice();
  let s = '';
  for (let i = 0; i < n; i++) {
    const j = i + rng.randbelow(pool.length - i);
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
    s += pool[i];
  }
  return s;
}
