/**
 * Labels: the text of each image, encoded per position over the alphabet's classes, and back.
 */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Text -> class index per position, int32 [texts.length, length], row-major.
 * Throws on a character outside the alphabet or a text of another length.
 */
export function encodeLabels(texts: readonly string[], alphabet: string, length: number): Int32Array {
  const out = new Int32Array(texts.length * length);
  texts.forEach((text, i) => {
    if (text.length !== length) {
      throw new Error(`label '${text}' (text ${i + 1} of ${texts.length}) has ${text.length} characters; this model reads exactly ${length}`);
    }
    for (let j = 0; j < length; j++) {
      const k = alphabet.indexOf(text[j]);
      if (k < 0) throw new Error(`label '${text}' (text ${i + 1} of ${texts.length}) has '${text[j]}', which is not in the alphabet '${alphabet}'`);
      out[i * length + j] = k;
    }
  });
  return out;
}

/** Class indices per position (row-major [n, length]) -> texts. */
export function decodeLabels(indices: ArrayLike<number>, alphabet: string, length: number): string[] {
  const n = indices.length / length;
  const texts: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    for (let j = 0; j < length; j++) s += alphabet[indices[i * length + j]] ?? '?';
    texts.push(s);
  }
  return texts;
}

export const LABELS_FILE = 'labels.txt';

/**
 * The image files of a dataset folder in our layout (`0.jpg ... N-1.jpg`, or `.png`): the
 * extension of image 0 and how many numbered images there are; null when there is no image 0.
 */
export function datasetImageLayout(dir: string): { extension: 'jpg' | 'png'; count: number } | null {
  const extension = (['jpg', 'png'] as const).find((ext) => fs.existsSync(path.join(dir, `0.${ext}`)));
  if (!extension) return null;
  const count = fs.readdirSync(dir).filter((f) => /^\d+\.(jpg|png)$/.test(f)).length;
  return { extension, count };
}

/**
 * Reads `labels.txt` of a dataset folder: line i is the text of image i. Checks the count (when
 * given) and that every character is in the alphabet, naming the offending line.
 */
export function readLabels(dir: string, alphabet: string, expectedCount?: number): string[] {
  const file = path.join(dir, LABELS_FILE);
  if (!fs.existsSync(file)) {
    throw new Error(`no ${LABELS_FILE} in '${dir}'; create the dataset with \`captcha-lab generate --out ${dir}\``);
  }
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (expectedCount !== undefined && lines.length !== expectedCount) {
    throw new Error(`${file} has ${lines.length} lines but the folder has ${expectedCount} images; one line per image is needed`);
  }
  lines.forEach((line, i) => {
    if (line.length === 0) throw new Error(`${file} line ${i + 1} is empty`);
    for (const ch of line) {
      if (!alphabet.includes(ch)) {
        throw new Error(`${file} line ${i + 1} ('${line}') has '${ch}', which is not in the alphabet '${alphabet}'`);
      }
    }
  });
  return lines;
}

/**
 * Checks that every label of a dataset folder has the length of the first: a folder's models read
 * a fixed number of characters, and a stray line would otherwise fail mid-epoch.
 */
export function checkLabelLengths(dir: string, labels: readonly string[]): void {
  if (labels.length === 0) return;
  const length = Array.from(labels[0]).length;
  labels.forEach((label, i) => {
    const n = Array.from(label).length;
    if (n !== length) {
      throw new Error(
        `${path.join(dir, LABELS_FILE)} line ${i + 1} ('${label}') has ${n} characters but line 1 has ${length}; ` +
          'every label of a dataset folder must have the same length: fix that line or regenerate the dataset ' +
          '(texts of several lengths: train a CTC model on fresh CAPTCHAs, `train --source stream --min-length`)',
      );
    }
  });
}
