/**
 * Labelled image files in any folder: either our layout (`labels.txt`, line i for `i.jpg|png`) or
 * a `labels.csv` with `file,label` rows (the layout of the real-library reference sample).
 */
import * as fs from 'fs';
import * as path from 'path';
import { datasetImageLayout, readLabels } from './labels';

export interface LabeledFile {
  file: string;
  label: string;
}

export function listLabeledFiles(dir: string, alphabet: string): LabeledFile[] {
  const csv = path.join(dir, 'labels.csv');
  if (fs.existsSync(csv)) {
    const rows = fs.readFileSync(csv, 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
    const header = rows[0]?.split(',');
    if (!header || header[0] !== 'file' || header[1] !== 'label') {
      throw new Error(`${csv} must start with the header 'file,label'`);
    }
    return rows.slice(1).map((row, i) => {
      const [file, label] = row.split(',');
      if (!file || !label) throw new Error(`${csv} line ${i + 2} ('${row}') is not 'file,label'`);
      for (const ch of label) {
        if (!alphabet.includes(ch)) throw new Error(`${csv} line ${i + 2}: '${ch}' is not in the alphabet '${alphabet}'`);
      }
      return { file: path.join(dir, file), label };
    });
  }
  const layout = datasetImageLayout(dir);
  if (!layout) throw new Error(`'${dir}' has neither labels.csv nor 0.jpg/0.png with labels.txt`);
  return readLabels(dir, alphabet, layout.count).map((label, i) => ({ file: path.join(dir, `${i}.${layout.extension}`), label }));
}

const IMAGE_FILE = /\.(png|jpe?g)$/i;

/** Image files named by `inputs`: files as given, folders expanded (sorted, images only). */
export function expandImagePaths(inputs: readonly string[]): string[] {
  const out: string[] = [];
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new Error(`'${input}' does not exist`);
    if (fs.statSync(input).isDirectory()) {
      const files = fs.readdirSync(input).filter((f) => IMAGE_FILE.test(f));
      files.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      out.push(...files.map((f) => path.join(input, f)));
    } else {
      out.push(input);
    }
  }
  if (out.length === 0) throw new Error(`no .png or .jpg images in ${inputs.join(', ')}`);
  return out;
}
