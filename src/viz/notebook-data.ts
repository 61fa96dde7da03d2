/**
 * The file-level steps the notebooks share: what a dataset folder holds, clearing the folders the
 * notebooks own, the accuracy-over-time series of saved runs, and runs that show the plateau.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { PlateauOutcome, PlateauProbe } from '../train/plateau';
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

/** A saved run's dead fraction of the last convolution over steps, with the plateau verdict. */
export interface PlateauRun {
  /** The run folder's name. */
  name: string;
  architecture: string;
  outcome: PlateauOutcome;
  probes: PlateauProbe[];
}

/**
 * One stuck and one escaped run among the run folders of `modelsDir`, for showing the plateau:
 * runs of the original `seed` network first (its coin toss is the story), then by folder name.
 * `missing` names the outcomes no run has; `unreadable` the run.json files that could not be read
 * (a damaged record elsewhere must not stop the notebook). Runs without a plateau record (trained
 * before the trainer kept one, or with probing off) and undecided runs are left out.
 */
export function plateauExamples(modelsDir: string): { runs: PlateauRun[]; missing: PlateauOutcome[]; unreadable: string[] } {
  const found: PlateauRun[] = [];
  const unreadable: string[] = [];
  const names = fs.existsSync(modelsDir) ? fs.readdirSync(modelsDir).sort() : [];
  for (const name of names) {
    const dir = path.join(modelsDir, name);
    if (!fs.existsSync(path.join(dir, 'run.json'))) continue;
    try {
      const record = readRunRecord(dir);
      const plateau = record.plateau;
      if (plateau && plateau.outcome !== 'undecided' && plateau.probes.length > 0) {
        found.push({ name, architecture: record.architecture, outcome: plateau.outcome, probes: plateau.probes });
      }
    } catch {
      unreadable.push(path.join(dir, 'run.json'));
    }
  }
  const original = (r: PlateauRun) => (r.architecture === 'seed' ? 0 : 1);
  found.sort((a, b) => original(a) - original(b)); // stable: folder names stay in order within each group
  const runs: PlateauRun[] = [];
  const missing: PlateauOutcome[] = [];
  for (const outcome of ['stuck', 'escaped'] as const) {
    const run = found.find((r) => r.outcome === outcome);
    if (run) runs.push(run);
    else missing.push(outcome);
  }
  return { runs, missing, unreadable };
}
