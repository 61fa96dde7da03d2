/**
 * The file-level steps the notebooks share: what a dataset folder holds, clearing the folders the
 * notebooks own, and the accuracy-over-time series of saved runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readRunRecord } from '../train/run-record';
import { runTimePoints, type TimePoint } from './figures';

/** Prefix of the folders the notebooks own (`data/nb-captchas`, `models/nb-seed`). */
export const NOTEBOOK_FOLDER_PREFIX = 'nb-';

/**
 * Deletes a folder the notebooks own, so that rerunning a notebook with new parameters starts
 * clean. Refuses folders whose name lacks the `nb-` prefix: a parameter pointing at a real
 * dataset or run must never wipe it.
 */
export function clearNotebookFolder(dir: string): void {
  const name = path.basename(path.resolve(dir));
  if (!name.startsWith(NOTEBOOK_FOLDER_PREFIX)) {
    throw new Error(`refusing to delete '${dir}': notebooks only replace folders named ${NOTEBOOK_FOLDER_PREFIX}*; pick such a folder or delete it yourself`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Total bytes of the image files (`.png`, `.jpg`) directly in `dir`. */
export function folderImageBytes(dir: string): number {
  if (!fs.existsSync(dir)) throw new Error(`folder '${dir}' does not exist`);
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

/**
 * Accuracy-over-time series of the runs that exist among `runs` (others are skipped), for
 * comparing architectures: e.g. the pretrained CRNN against the replicated original network.
 */
export function comparedRunCurves(runs: ReadonlyArray<{ name: string; dir: string }>): Array<{ name: string; points: TimePoint[] }> {
  return runs
    .filter((r) => fs.existsSync(path.join(r.dir, 'run.json')))
    .map((r) => ({ name: r.name, points: [{ minutes: 0, wholeAccuracy: 0 }, ...runTimePoints(readRunRecord(r.dir))] }));
}
