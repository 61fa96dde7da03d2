/**
 * Reading a run folder's `run.json` (written by the trainer), for the CLI, the notebooks and
 * scripts that compare runs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './config';
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

/**
 * The configuration in force at the end of a run's last part: the first, with every resume's
 * changes. A setting newer than the record had its default value in that run, so it is filled in
 * (a resume that gives the default is then no change).
 */
export function effectiveConfig(record: RunRecord): TrainConfig {
  const config: Record<string, unknown> = { ...DEFAULT_TRAIN_CONFIG, ...record.config };
  for (const change of record.resumes ?? []) {
    for (const [key, { to }] of Object.entries(change.changed)) config[key] = to;
  }
  return config as unknown as TrainConfig;
}
