/**
 * Reading a run folder's `run.json` (written by the trainer), for the CLI, the notebooks and
 * scripts that compare runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { RunRecord } from './trainer';

export const RUN_JSON = 'run.json';

/** `run.json` of a training run folder, or null when the folder has none (e.g. an exported model). */
export function findRunRecord(runDir: string): RunRecord | null {
  const file = path.join(runDir, RUN_JSON);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord) : null;
}

/** `run.json` of a training run folder; a clear error when there is none. */
export function readRunRecord(runDir: string): RunRecord {
  const record = findRunRecord(runDir);
  if (!record) {
    throw new Error(`no run.json in '${runDir}'; train first (notebook 03 or \`npm run cli -- train --run <name>\`)`);
  }
  return record;
}
