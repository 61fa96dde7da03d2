/**
 * Replaying the real library: lepture's own `image.py` run on a recorded random stream
 * (test/captcha/fixtures/make-lepture-replay.py writes such replay files), and the same draws
 * fed to our generator, so the two can be compared image for image.
 */
import * as fs from 'fs';
import type { CaptchaVersion } from './image-captcha';
import type { RandomSource } from './rng';

/** One draw recorded from lepture's own code: `[n, v]` = randbelow(n) gave v; `[0, bits]` = randbits(32) gave bits. */
export type RecordedDraw = readonly [number, number];

/** A source that replays recorded draws; `left()` says how many were not asked for. */
export interface ReplaySource extends RandomSource {
  left(): number;
}

/**
 * Replays draws recorded from the real library. Throws when the generator asks for another kind
 * of draw than lepture made at that point, naming both: the call order must match.
 */
export function replayDraws(draws: readonly RecordedDraw[]): ReplaySource {
  let i = 0;
  const next = (n: number): number => {
    const [m, v] = draws[i++] ?? [NaN, NaN];
    if (m !== n) {
      const kind = (k: number): string => (Number.isNaN(k) ? 'nothing (no draws left)' : k === 0 ? 'random()' : `randbelow(${k})`);
      throw new Error(`draw ${i - 1}: the generator asked for ${kind(n)}, lepture drew ${kind(m)}`);
    }
    return v;
  };
  return {
    randbelow: (n) => next(n),
    random: () => next(0) / 2 ** 32,
    choice: (seq) => seq[next(seq.length)],
    left: () => draws.length - i,
  };
}

/** One image of a replay file: what lepture drew for `label`, from `draws`. */
export interface ReplayCase {
  version: CaptchaVersion;
  label: string;
  width: number;
  height: number;
  draws: RecordedDraw[];
  /** SHA-256 of lepture's image, RGB bytes (0.2.2's may be wider than `width`). */
  sha256: string;
  /** 0.2.2 images wider than `width` only: of that image resized to `width` with the same Pillow's default filter. */
  fitted_sha256?: string;
}

/** The cases of a replay file written by make-lepture-replay.py. */
export function readReplayFile(file: string): ReplayCase[] {
  if (!fs.existsSync(file)) {
    throw new Error(`replay file '${file}' not found; make one with test/captcha/fixtures/make-lepture-replay.py`);
  }
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { cases?: ReplayCase[] };
  if (!Array.isArray(parsed.cases)) throw new Error(`'${file}' has no "cases" list; make it with test/captcha/fixtures/make-lepture-replay.py`);
  return parsed.cases;
}
