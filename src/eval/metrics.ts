/**
 * Scoring predicted texts against true texts: the figures of the original experiment
 * (character and whole-image accuracy, confusion pairs like `{0,O}->475`) and more
 * (per-position accuracy, a full confusion matrix).
 */

export interface ConfusionPair {
  predicted: string;
  actual: string;
  count: number;
}

export interface Misread {
  index: number;
  actual: string;
  predicted: string;
}

export interface EvaluationReport {
  count: number;
  alphabet: string;
  /** Fraction of characters read right, over all positions. */
  characterAccuracy: number;
  /** Fraction of images whose whole text is right. */
  wholeAccuracy: number;
  /**
   * Character accuracy of each position of the true texts. Characters a CTC model reads past the
   * true text's end count against `characterAccuracy`, not here: there is no such position.
   */
  perPositionAccuracy: number[];
  /** (predicted, true) pairs of wrong characters, most frequent first. */
  confusionPairs: ConfusionPair[];
  /** Rows: true class, columns: predicted class, in alphabet order. */
  confusionMatrix: number[][];
  /** Every misread image (index into the evaluated set). */
  misreads: Misread[];
}

/**
 * Compares predictions with the truth, position by position. Texts of different lengths
 * (possible with CTC models) count every missing or extra position as a wrong character.
 */
export function scorePredictions(actual: readonly string[], predicted: readonly string[], alphabet: string): EvaluationReport {
  if (actual.length !== predicted.length) {
    throw new Error(`${actual.length} true texts but ${predicted.length} predictions`);
  }
  if (actual.length === 0) throw new Error('nothing to evaluate: the set is empty');
  const k = alphabet.length;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const pairs = new Map<string, number>();
  const positionRight: number[] = [];
  const positionTotal: number[] = [];
  let charsRight = 0;
  let charsTotal = 0;
  let wholeRight = 0;
  const misreads: Misread[] = [];
  actual.forEach((truth, i) => {
    const guess = predicted[i];
    if (truth === guess) wholeRight++;
    else misreads.push({ index: i, actual: truth, predicted: guess });
    const n = Math.max(truth.length, guess.length);
    for (let p = 0; p < n; p++) {
      if (p < truth.length) {
        positionTotal[p] = (positionTotal[p] ?? 0) + 1;
        positionRight[p] = positionRight[p] ?? 0;
      }
      charsTotal++;
      const t = truth[p];
      const g = guess[p];
      if (t !== undefined && t === g) {
        charsRight++;
        positionRight[p]++; // t is defined, so p < truth.length
      } else if (t !== undefined && g !== undefined) {
        const key = `${g}\u0000${t}`;
        pairs.set(key, (pairs.get(key) ?? 0) + 1);
      }
      const ti = t === undefined ? -1 : alphabet.indexOf(t);
      const gi = g === undefined ? -1 : alphabet.indexOf(g);
      if (ti >= 0 && gi >= 0) matrix[ti][gi]++;
    }
  });
  const confusionPairs = [...pairs.entries()]
    .map(([key, count]) => {
      const [p, t] = key.split('\u0000');
      return { predicted: p, actual: t, count };
    })
    .sort((a, b) => b.count - a.count || a.actual.localeCompare(b.actual) || a.predicted.localeCompare(b.predicted));
  return {
    count: actual.length,
    alphabet,
    characterAccuracy: charsRight / charsTotal,
    wholeAccuracy: wholeRight / actual.length,
    perPositionAccuracy: positionTotal.map((t, p) => positionRight[p] / t),
    confusionPairs,
    confusionMatrix: matrix,
    misreads,
  };
}

/** The original's notation, `{predicted,true}->count`: `{0,O}->475` is a true O read as 0, 475 times. */
export function formatConfusionPair(p: ConfusionPair): string {
  return `{${p.predicted},${p.actual}}->${p.count}`;
}

/** The most frequent pairs in the original's notation, comma-separated. */
export function formatConfusionPairs(pairs: readonly ConfusionPair[], limit = 10): string {
  return pairs.slice(0, limit).map(formatConfusionPair).join(', ');
}

/** A fraction as a percentage with two decimals, as every report of the project prints it. */
export function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** A few lines a person reads first. */
export function formatReport(report: EvaluationReport): string {
  return [
    `images: ${report.count}`,
    `character accuracy: ${pct(report.characterAccuracy)}`,
    `whole-image accuracy: ${pct(report.wholeAccuracy)}`,
    `per position: ${report.perPositionAccuracy.map(pct).join(' ')}`,
    `top confusions {predicted,true}: ${formatConfusionPairs(report.confusionPairs) || 'none'}`,
  ].join('\n');
}
