/**
 * The run folder `<modelsDir>/<run>/` around a training run: the checks made before any training
 * starts (a name that stays inside --models-dir, a folder that can be written, a model that would
 * be replaced, a run that can be resumed), the lock that keeps a second process out, and the
 * settings a resumed run continues with.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FOLDER_LOCK_FILE, acquireFolderLock, createFolder, nearestExisting } from '../files';
import { DEFAULT_TRAIN_CONFIG, TrainConfigSchema, flagOf, invalidConfig, resolveTrainConfig, type TrainConfig } from './config';
import { RUN_JSON, effectiveConfig } from './run-record';
import type { RunRecord } from './trainer';

/** The resumable state of a run: latest model, optimizer state, loop position. */
export const CHECKPOINT = 'checkpoint';

/** The checkpoint's loop state (position, run record), written last: its presence makes a checkpoint. */
const CHECKPOINT_STATE = 'state.json';

/**
 * The loop state saved with a run's checkpoint, or null when the run has none. `unreadable` words
 * the error for a damaged one (what to do differs between resuming and replicating).
 */
export function readCheckpointState<T extends { globalStep: number; epoch: number; record: RunRecord }>(
  runDir: string,
  unreadable: (stateFile: string, why: string) => string,
): T | null {
  const file = path.join(runDir, CHECKPOINT, CHECKPOINT_STATE);
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch (err) {
    throw new Error(unreadable(file, (err as Error).message));
  }
}

/** Files of the model a run saves beside its checkpoint; any of them makes the folder a model's. */
// (zero-o-reader/: a 0/O reader attached to an earlier model of the folder; it belongs to that model)
const MODEL_FILES = ['model.json', 'weights.bin', 'metadata.json', RUN_JSON, 'zero-o-reader'];

/** Reports written into a model folder by `evaluate` (default names): they describe that model only. */
// evaluate's JSON reports and matrix's Markdown table beside its report
const EVALUATION_REPORT = /^evaluation.*\.(json|md)$/;

/**
 * Settings a resumed run may change: how long it trains and its learning-rate schedule (e.g.
 * `--epochs` to lengthen a run or restart its cosine cycle), and what only affects speed or
 * reporting. Everything else (model, data, seed, batch size, optimizer...) defines what the
 * checkpoint is part of, so a different value is refused rather than silently mixed in.
 */
export const RESUMABLE_SETTINGS: ReadonlyArray<keyof TrainConfig> = [
  'epochs', 'learningRate', 'schedule', 'warmupSteps', 'minLearningRate', 'workers', 'curveEveryMinutes', 'curveImages',
];

/** Where a run is saved, from a config that may be partial; the run name is checked first. */
export function runLocation(input: Partial<TrainConfig>): { run: string; modelsDir: string; runDir: string } {
  const values = { run: input.run ?? DEFAULT_TRAIN_CONFIG.run, modelsDir: input.modelsDir ?? DEFAULT_TRAIN_CONFIG.modelsDir };
  const parsed = TrainConfigSchema.pick({ run: true, modelsDir: true }).safeParse(values);
  if (!parsed.success) throw invalidConfig(parsed.error, values);
  const { run, modelsDir } = parsed.data;
  return { run, modelsDir, runDir: path.join(modelsDir, run) };
}

/** Names of the runs in `modelsDir` that have a checkpoint, for a message. */
function resumableRuns(modelsDir: string): string[] {
  try {
    return fs.readdirSync(modelsDir).filter((name) => fs.existsSync(path.join(modelsDir, name, CHECKPOINT, CHECKPOINT_STATE)));
  } catch {
    return [];
  }
}

/** The run record saved with the checkpoint of a run, with a clear error when there is nothing to resume. */
function checkpointRecord(location: ReturnType<typeof runLocation>): RunRecord {
  const { run, modelsDir, runDir } = location;
  if (!fs.existsSync(runDir)) {
    const others = resumableRuns(modelsDir);
    throw new Error(
      `cannot resume run '${run}': there is no folder '${runDir}'; check --run and --models-dir` +
        (others.length ? ` (runs that can be resumed in '${modelsDir}': ${others.join(', ')})` : '') +
        ', or leave out --resume to start a new run',
    );
  }
  const state = readCheckpointState(runDir, (file, why) => `cannot resume run '${run}': its checkpoint '${file}' is unreadable (${why}); start a new run with another --run`);
  if (state) return state.record;
  const hasModel = MODEL_FILES.some((f) => fs.existsSync(path.join(runDir, f)));
  throw new Error(
    hasModel
      ? `cannot resume run '${run}': '${runDir}' holds a model but no ${CHECKPOINT}/ to continue from (a finished model copied without it, like models/pretrained); train a new run with another --run`
      : `cannot resume run '${run}': '${runDir}' has no ${CHECKPOINT}/ (the run stopped before saving one); leave out --resume to start it over` +
        (keepsReplacedRun(runDir) ? ` with --overwrite (it keeps the run it replaced in ${path.join(runDir, REPLACED_RUN)} until it saves a model; ${restoreHint(runDir)})` : ''),
  );
}

/** JSON with every object's keys sorted: the same value however its keys were written. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

/** Same setting value: equal JSON (keys in any order), or for the dataset folder, the same folder however written. */
function sameSetting(key: string, given: unknown, recorded: unknown): boolean {
  if (key === 'dataDir' && typeof given === 'string' && typeof recorded === 'string') return path.resolve(given) === path.resolve(recorded);
  return canonicalJson(given) === canonicalJson(recorded);
}

/**
 * The configuration a `--resume` continues with: the run's own settings (as last resumed), with
 * the given settings on top. Given settings that contradict the run are refused by name, except
 * RESUMABLE_SETTINGS, which the trainer records in `run.json`'s `resumes`. So `{ run }` alone
 * continues a run exactly as it was started.
 */
export function resumedConfig(input: Partial<TrainConfig>): TrainConfig {
  const location = runLocation(input);
  // with defaults: a setting newer than the run's record had its default value in that run
  const recorded: Record<string, unknown> = { ...effectiveConfig(checkpointRecord(location)) };
  const kept: Record<string, unknown> = {};
  const conflicts: string[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || key === 'run' || key === 'modelsDir') continue;
    if ((RESUMABLE_SETTINGS as readonly string[]).includes(key)) kept[key] = value;
    else if (!sameSetting(key, value, recorded[key])) {
      const was = recorded[key] === undefined ? 'unset' : JSON.stringify(recorded[key]);
      conflicts.push(`${key} (${flagOf(key)}) ${JSON.stringify(value)}, but the run has ${was}`);
    }
  }
  if (conflicts.length > 0) {
    throw new Error(
      `cannot resume run '${location.run}' with settings it was not trained with: ${conflicts.join('; ')}. ` +
        `Leave them out (--resume continues with the run's own settings; only ${RESUMABLE_SETTINGS.map(flagOf).join(', ')} may change), ` +
        'or train a new run with another --run',
    );
  }
  // the folder's current place, not the recorded one: a run folder may have been moved
  return resolveTrainConfig(recorded, kept, { run: location.run, modelsDir: location.modelsDir });
}

/** Creates the run folder (and --models-dir), naming the folder at fault and the fix when it cannot. */
function createRunFolder(runDir: string, modelsDir: string): boolean {
  if (fs.existsSync(runDir)) {
    if (!fs.statSync(runDir).isDirectory()) throw new Error(`'${runDir}' is a file, not a run folder; choose another --run`);
    return false;
  }
  try {
    createFolder(runDir); // not mkdirSync's recursive option, which spins forever under /proc
    return true;
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    if (code === 'ENOTDIR' || code === 'EEXIST') throw new Error(`cannot create the run folder '${runDir}': '${modelsDir}' (or a folder above it) is a file; choose another --models-dir`);
    const blocked = nearestExisting(path.dirname(runDir));
    throw new Error(`cannot create the run folder '${runDir}' (${code ?? (err as Error).message}): '${blocked}' is not writable; make it writable (chmod u+w '${blocked}') or choose another --models-dir`);
  }
}

/** Fails now, not after an epoch of training, when files cannot be created in `runDir`. */
function assertWritable(runDir: string): void {
  const probe = path.join(runDir, `.write-test.${process.pid}`);
  try {
    fs.writeFileSync(probe, '', { flag: 'wx' });
    fs.rmSync(probe);
  } catch (err) {
    const { code } = err as NodeJS.ErrnoException;
    throw new Error(`the run folder '${runDir}' is not writable (${code ?? (err as Error).message}); make it writable (chmod u+w '${runDir}') or choose another --run or --models-dir`);
  }
}

/** The model files, checkpoint and evaluation reports of a previous run in `runDir`. */
function previousRunFiles(runDir: string): { model: string[]; reports: string[] } {
  const names = fs.readdirSync(runDir);
  return {
    model: [...MODEL_FILES, CHECKPOINT].filter((f) => names.includes(f)),
    reports: names.filter((f) => EVALUATION_REPORT.test(f)).sort(),
  };
}

export interface RunFolder {
  runDir: string;
  /** Unlocks the folder (and removes it if this run created it and left it empty). */
  release(): void;
}

/**
 * Prepares `<modelsDir>/<run>/` before anything is trained: creates it, checks that it can be
 * written, locks it against a second process, and refuses a folder that already holds a model
 * unless the run resumes it or `overwrite` asks to replace it (see `setAsidePreviousRun`). A folder
 * that keeps a replaced run (`.replaced/`, an `overwrite` stopped before its first model) is
 * refused unless the run resumes or overwrites: a new run would delete it after its first epoch.
 */
export function openRunFolder(config: TrainConfig, options: { resume?: boolean; overwrite?: boolean }): RunFolder {
  if (options.resume && options.overwrite) {
    throw new Error('--resume continues a run and --overwrite replaces it: pass only one of them');
  }
  const { run, modelsDir, runDir } = runLocation(config);
  const created = createRunFolder(runDir, modelsDir);
  assertWritable(runDir);
  const unlock = acquireFolderLock(runDir, 'train');
  const release = () => {
    // Decided while locked; the folder can only go once unlocked (the lock file is in it), and by
    // then another train may have taken it: then it is not empty, and stays.
    const empty = created && fs.readdirSync(runDir).every((name) => name === FOLDER_LOCK_FILE);
    unlock();
    if (!empty) return;
    try {
      fs.rmdirSync(runDir);
    } catch (err) {
      // never hide the error that ended the run (release runs in train's finally) for a leftover folder
      if (!['ENOTEMPTY', 'EEXIST', 'ENOENT'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  };
  if (!options.resume && !options.overwrite) {
    if (keepsReplacedRun(runDir)) {
      release();
      throw new Error(
        `'${runDir}' keeps the run an --overwrite replaced, in ${path.join(runDir, REPLACED_RUN)} (that --overwrite stopped before saving a model); ` +
          `pass --overwrite to replace it after all, --resume to go on with the stopped run, or choose another --run (${restoreHint(runDir)})`,
      );
    }
    const { model, reports } = previousRunFiles(runDir);
    if (model.includes(CHECKPOINT)) {
      release();
      throw new Error(`run '${run}' already exists in ${runDir}; pass --resume to continue it, --overwrite to replace it, or choose another --run`);
    }
    if (model.length > 0) {
      release();
      throw new Error(
        `'${runDir}' already holds a model (${[...model, ...reports].join(', ')}) that training would replace; ` +
          'choose another --run, or pass --overwrite to replace it (its evaluation reports are removed too)',
      );
    }
  }
  return { runDir, release };
}

/** Where `overwrite` keeps the previous run until the new one has saved a model of its own. */
export const REPLACED_RUN = '.replaced';

/** True if `<run>/.replaced/` holds something. */
export function keepsReplacedRun(runDir: string): boolean {
  const aside = path.join(runDir, REPLACED_RUN);
  return fs.existsSync(aside) && fs.readdirSync(aside).length > 0;
}

/** The shell commands that put the replaced run back in place of the stopped one. */
export function restoreHint(runDir: string): string {
  const q = (p: string) => `'${p.replace(/'/g, `'\\''`)}'`;
  const aside = path.join(runDir, REPLACED_RUN);
  return `to go back to it: rm -rf ${q(path.join(runDir, 'run.json'))} ${q(path.join(runDir, CHECKPOINT))} && mv ${q(aside)}/* ${q(runDir)}/ && rmdir ${q(aside)}`;
}

/**
 * For `overwrite`: moves the previous run's model, run.json, checkpoint and evaluation reports
 * into `<run>/.replaced/`, so that nothing of the old model is left beside the new one or taken to
 * describe it, yet nothing is lost if the new run stops before it saves a model
 * (`dropReplacedRun` deletes them then). Called once the new run's model and data are ready, so a
 * typo in the new settings changes nothing. If `.replaced/` already holds a run, an earlier
 * `--overwrite` stopped: when the folder now holds no model (only the stopped run's record and
 * checkpoint) the kept run is the last one with a model and stays, and the stopped run's files are
 * removed; when it holds a model (the stopped run saved one but died before deleting the kept run,
 * or the user moved the kept run back), that model is the one to keep, and the older one goes.
 * Returns what it did, for the log, or null when there was nothing to move.
 */
export function setAsidePreviousRun(runDir: string): string | null {
  const { model, reports } = previousRunFiles(runDir);
  const aside = path.join(runDir, REPLACED_RUN);
  const keptBefore = keepsReplacedRun(runDir);
  if (model.length + reports.length === 0) return null;
  const what = [...model.map((f) => (f === CHECKPOINT ? `${f}/` : f)), ...reports].join(', ');
  if (keptBefore && !model.includes('model.json')) {
    for (const name of [...model, ...reports]) fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
    return `--overwrite: removed ${what} of a run that stopped before saving a model; the run before it stays in ${aside} until this one saves a model`;
  }
  // an empty .replaced/ (left by moving a run back by hand), or an older run than the model here
  fs.rmSync(aside, { recursive: true, force: true });
  fs.mkdirSync(aside);
  for (const name of [...model, ...reports]) fs.renameSync(path.join(runDir, name), path.join(aside, name));
  return `--overwrite: moved the previous run's ${what} from ${runDir} to ${aside}; it is deleted once this run saves a model`;
}

/** Deletes what `setAsidePreviousRun` kept, once the new run has saved a model; true if there was something. */
export function dropReplacedRun(runDir: string): boolean {
  const aside = path.join(runDir, REPLACED_RUN);
  if (!fs.existsSync(aside)) return false;
  fs.rmSync(aside, { recursive: true, force: true });
  return true;
}
