/**
 * The same training run under several seeds, to count how often it leaves the chance plateau
 * (`captcha-lab replicate`). Each seed trains as its own run `<run>-seed<N>` in the models folder,
 * stopped as soon as it is stuck (src/train/plateau.ts). The first seed of the list that escapes is
 * trained to all its epochs; the others that escape stop at the verdict (resumable to all epochs
 * later: `trainEscaped`, or `train --run <run>-seed<N> --resume`).
 *
 * Rerunning the same replication skips the seeds that are decided (stopped stuck, stopped escaped,
 * or finished) and resumes the interrupted ones. After every seed the table is written, as
 * markdown and JSON, each file atomically; a seed's held-out evaluation is kept in the JSON and
 * redone only when its run has trained further.
 */
import * as fs from 'fs';
import * as path from 'path';
import { acquireLock, createFolder, writeFileAtomic } from '../files';
import { evaluateHeldOut } from '../eval/held-out';
import { pct } from '../eval/metrics';
import { resolveTrainConfig, type TrainConfig } from './config';
import { ESCAPE_LOSS_WINDOW, ESCAPE_LOSS_FRACTION, type PlateauRecord } from './plateau';
import { readCheckpointState } from './run-folder';
import { effectiveConfig } from './run-record';
import { train, type RunRecord, type TrainCallbacks } from './trainer';

export type ReplicationOutcome = 'escaped' | 'stuck' | 'undecided' | 'unfinished';

export interface ReplicationRow {
  seed: number;
  run: string;
  /**
   * `escaped`/`stuck`: the plateau verdict; `undecided`: trained all epochs with neither verdict;
   * `unfinished`: not started, or interrupted before a verdict.
   */
  outcome: ReplicationOutcome;
  /** Escaped: the step the running loss fell below the line. Stuck: the first step of the dead stretch. */
  verdictStep: number | null;
  /** Stuck: the step the verdict was declared (verdictStep + the stuck stretch). */
  declaredAt: number | null;
  /** Optimizer steps trained, and whole epochs among them. */
  steps: number;
  epochs: number;
  /** Trained to all its epochs (the full run), rather than stopped on a verdict. */
  completed: boolean;
  /** On the run's held-out split; null when not evaluated (unfinished). */
  heldOut: { characterAccuracy: number; wholeAccuracy: number; images: number; model: string } | null;
  /** The run's `updatedAt` when it was evaluated: a rerun evaluates again only when it changed. */
  evaluatedState: string | null;
}

export interface ReplicationTable {
  run: string;
  modelsDir: string;
  seeds: number[];
  /** The shared settings, one line. */
  settings: string;
  /** The plateau rule, one line. */
  rule: string;
  rows: ReplicationRow[];
  updatedAt: string;
}

/** What happens to a seed when the replication reaches it. */
export interface SeedPlan {
  action: 'train' | 'resume' | 'done';
  why: string;
}

export interface ReplicationCallbacks {
  onSeed?(seed: number, plan: SeedPlan, run: string): void;
  /** The training callbacks of one seed's run. */
  train?(seed: number): TrainCallbacks;
  /** After each seed, with its row (also after an interrupted one). */
  onRow?(row: ReplicationRow): void;
  onLog?(line: string): void;
}

export interface ReplicationOptions {
  /** Settings shared by every seed (as for `train`); `run` names the replication, `seed` is replaced by each seed. */
  config: Partial<TrainConfig>;
  seeds: readonly number[];
  /** Train every escaped seed to all its epochs, not only the first. @default false */
  trainEscaped?: boolean;
  /** The table's files, without extension (`.md`, `.json`). @default `<modelsDir>/<run>-replication` */
  out?: string;
  /** Abort to stop after the current batch of the current seed (with a checkpoint). */
  signal?: AbortSignal;
  callbacks?: ReplicationCallbacks;
}

export interface ReplicationResult {
  table: ReplicationTable;
  /** Where the table was written. */
  files: { markdown: string; json: string };
  interrupted: boolean;
}

/** The run name of one seed. */
export function seedRunName(run: string, seed: number): string {
  return `${run}-seed${seed}`;
}

/** A seed's checkpoint state, or null when it has none. */
function seedCheckpoint(runDir: string) {
  return readCheckpointState(runDir, (_, why) => `the checkpoint of '${runDir}' is unreadable (${why}); remove '${runDir}' to train that seed again`);
}

/** Train, resume, or leave a seed's run as it is. */
export function planSeed(runDir: string, fullRun: boolean, epochs: number): SeedPlan {
  const state = seedCheckpoint(runDir);
  if (!state) return { action: 'train', why: 'not started' };
  const { record } = state;
  const plateau = record.plateau;
  if (record.completed && effectiveConfig(record).epochs >= epochs) return { action: 'done', why: `finished ${record.history.length} epochs` };
  if (plateau?.stopped?.because === 'stuck') return { action: 'done', why: `stuck at step ${plateau.stuck?.step}` };
  if (plateau?.stopped?.because === 'escaped') {
    return fullRun
      ? { action: 'resume', why: `escaped at step ${plateau.escaped?.step}; training on to all epochs` }
      : { action: 'done', why: `escaped at step ${plateau.escaped?.step}; stopped there` };
  }
  return { action: 'resume', why: `interrupted at step ${state.globalStep}` };
}

function outcomeOf(record: RunRecord | null, interrupted: boolean): Pick<ReplicationRow, 'outcome' | 'verdictStep' | 'declaredAt'> {
  const plateau: PlateauRecord | undefined = record?.plateau;
  if (plateau?.outcome === 'escaped') return { outcome: 'escaped', verdictStep: plateau.escaped?.step ?? null, declaredAt: null };
  if (plateau?.outcome === 'stuck') return { outcome: 'stuck', verdictStep: plateau.stuck?.step ?? null, declaredAt: plateau.stuck?.declaredAt ?? null };
  return { outcome: record?.completed && !interrupted ? 'undecided' : 'unfinished', verdictStep: null, declaredAt: null };
}

/** One line of the shared settings, from the first seed's record. */
function describeSettings(record: RunRecord): string {
  const c = effectiveConfig(record);
  const adam = c.optimizer === 'adam' ? ` beta1 ${c.beta1 ?? 0.9} beta2 ${c.beta2 ?? 0.999} epsilon ${c.epsilon ?? 'default'}` : '';
  return `${c.model} (init ${c.init ?? "the model's own"}) on ${record.data}; ${c.optimizer} lr ${c.learningRate}${adam}, ${c.schedule} schedule, batch ${c.batchSize}, ${c.epochs} epochs`;
}

function describeRule(record: RunRecord): string {
  const p = record.plateau;
  if (!p) return 'no plateau probe';
  const escape = p.escapeBelow === null ? 'no escape rule (CTC)' : `escaped = mean training loss of ${ESCAPE_LOSS_WINDOW} steps below ${p.escapeBelow.toFixed(2)} (${ESCAPE_LOSS_FRACTION} x chance ${p.chanceLoss?.toFixed(2)}) with live units`;
  return `every ${p.probeEvery} steps, ${p.probeImages} fixed training images through ${p.layer} (${p.units} ReLU units); stuck = no unit fired for ${p.stuckAfterSteps} steps; ${escape}`;
}

/** `escaped at step 412`, `stuck at step 340 (declared at 440)`. */
export function describeOutcome(row: ReplicationRow): string {
  switch (row.outcome) {
    case 'escaped':
      return `escaped at step ${row.verdictStep}`;
    case 'stuck':
      return `stuck at step ${row.verdictStep} (declared at ${row.declaredAt})`;
    case 'undecided':
      return 'neither (trained all epochs)';
    default:
      return row.steps > 0 ? 'unfinished' : 'not started';
  }
}

/** The table as markdown: settings, rule, a summary line, one row per seed. */
export function formatReplicationTable(table: ReplicationTable): string {
  const count = (o: ReplicationOutcome) => table.rows.filter((r) => r.outcome === o);
  const escaped = count('escaped');
  const summary =
    `Escaped: ${escaped.length} of ${table.rows.length}` + (escaped.length ? ` (seeds ${escaped.map((r) => r.seed).join(', ')})` : '') +
    `; stuck: ${count('stuck').length}; neither: ${count('undecided').length}; unfinished: ${count('unfinished').length}.`;
  const header = '| seed | run | outcome | steps trained | held-out character | held-out whole-image | model evaluated |\n|---|---|---|---|---|---|---|';
  const rows = table.rows.map((r) => {
    const steps = `${r.steps}${r.epochs > 0 ? ` (${r.epochs} epoch${r.epochs === 1 ? '' : 's'})` : ''}`;
    const held = r.heldOut;
    return `| ${r.seed} | ${r.run} | ${describeOutcome(r)} | ${steps} | ${held ? pct(held.characterAccuracy) : '-'} | ${held ? pct(held.wholeAccuracy) : '-'} | ${held?.model ?? '-'} |`;
  });
  return [
    `# Replication \`${table.run}\`: ${table.rows.length} seeds`,
    '',
    `Settings: ${table.settings}.`,
    '',
    `Plateau rule: ${table.rule}.`,
    '',
    summary,
    '',
    header,
    ...rows,
    '',
    `Runs in ${table.modelsDir}/; updated ${table.updatedAt}.`,
    '',
  ].join('\n');
}

/** Evaluates a seed's run on its held-out split: the best epoch's model, or its latest weights when it has none yet. */
async function evaluateSeed(runDir: string, record: RunRecord, steps: number): Promise<ReplicationRow['heldOut']> {
  const best = fs.existsSync(path.join(runDir, 'model.json')) && record.bestEpoch !== null;
  const evaluation = await evaluateHeldOut(runDir, { checkpoint: !best });
  evaluation.model.dispose();
  const { characterAccuracy, wholeAccuracy, count } = evaluation.report;
  return { characterAccuracy, wholeAccuracy, images: count, model: best ? `best epoch ${record.bestEpoch}` : `weights at step ${steps}` };
}

/**
 * The table this run wrote before (`<out>.json`), or null. The table is rewritten after every seed,
 * as `<out>.json` and `<out>.md`: files there that are not this run's replication table (`--out
 * docs/replication` beside the hand-written docs/replication.md) are refused before anything
 * trains, not overwritten.
 */
function readPreviousTable(files: ReplicationResult['files'], run: string): ReplicationTable | null {
  const refuse = (file: string, what: string): never => {
    throw new Error(`'${file}' exists and ${what}; the replication writes its table there: pass another --out, or move the file away first`);
  };
  if (fs.existsSync(files.markdown) && !fs.readFileSync(files.markdown, 'utf8').startsWith('# Replication `')) {
    refuse(files.markdown, 'is not a replication table');
  }
  if (!fs.existsSync(files.json)) return null;
  let table: Partial<ReplicationTable> | null = null;
  try {
    table = JSON.parse(fs.readFileSync(files.json, 'utf8')) as Partial<ReplicationTable>;
  } catch {
    refuse(files.json, 'is not JSON');
  }
  if (!table || typeof table !== 'object' || !Array.isArray(table.rows)) return refuse(files.json, 'is not a replication table');
  if (table.run !== run) return refuse(files.json, `holds the replication of run '${table.run}', not '${run}'`);
  return table as ReplicationTable;
}

/** Trains (or resumes, or skips) each seed in turn and writes the table after each. */
export async function replicate(options: ReplicationOptions): Promise<ReplicationResult> {
  const seeds = [...options.seeds];
  if (seeds.length === 0) throw new Error('replicate needs at least one seed (--seeds 1,2,3 or --count K)');
  const duplicate = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (duplicate !== undefined) throw new Error(`seed ${duplicate} is listed twice; list each seed once`);
  // validated once up front, so a typo fails before the first seed trains
  const base = resolveTrainConfig(options.config, { seed: seeds[0] });
  const out = options.out ?? path.join(base.modelsDir, `${base.run}-replication`);
  const files = { markdown: `${out}.md`, json: `${out}.json` };
  try {
    createFolder(path.dirname(out));
  } catch (err) {
    const { code, path: at } = err as NodeJS.ErrnoException;
    throw new Error(`cannot create the folder of the replication table '${out}' (${code ?? (err as Error).message}${at ? ` at '${at}'` : ''}); choose another --out or --models-dir`);
  }
  // Each run rewrites the whole table: a second replicate of it (other seeds, same --run) would
  // drop the first's rows, so it is refused at once, before it trains anything.
  const unlock = acquireLock(`${out}.lock`, `the replication table '${files.markdown}'`, `replicate ${base.run}`);
  try {
    const previous = readPreviousTable(files, base.run);
    return await replicateSeeds(options, seeds, base, files, previous);
  } finally {
    unlock();
  }
}

async function replicateSeeds(
  options: ReplicationOptions, seeds: number[], base: TrainConfig, files: ReplicationResult['files'], previous: ReplicationTable | null,
): Promise<ReplicationResult> {
  const cb = options.callbacks ?? {};
  const cached = new Map((previous?.rows ?? []).map((r) => [r.seed, r]));

  const rows: ReplicationRow[] = [];
  let settings = previous?.settings ?? '';
  let rule = previous?.rule ?? '';
  const notStarted = (seed: number): ReplicationRow => ({
    seed, run: seedRunName(base.run, seed), outcome: 'unfinished', verdictStep: null, declaredAt: null, steps: 0, epochs: 0, completed: false, heldOut: null, evaluatedState: null,
  });
  /** The table so far: this run's rows, then the seeds not reached yet as the last table had them. */
  const write = (): ReplicationTable => {
    const reached = new Set(rows.map((r) => r.seed));
    const table: ReplicationTable = {
      run: base.run, modelsDir: base.modelsDir, seeds, settings, rule,
      rows: [...rows, ...seeds.filter((s) => !reached.has(s)).map((s) => cached.get(s) ?? notStarted(s))],
      updatedAt: new Date().toISOString(),
    };
    writeFileAtomic(files.json, JSON.stringify(table, null, 1));
    writeFileAtomic(files.markdown, formatReplicationTable(table));
    return table;
  };

  let interrupted = false;
  for (const seed of seeds) {
    const run = seedRunName(base.run, seed);
    const runDir = path.join(base.modelsDir, run);
    const fullRun = Boolean(options.trainEscaped) || !rows.some((r) => r.outcome === 'escaped');
    const plan = planSeed(runDir, fullRun, base.epochs);
    cb.onSeed?.(seed, plan, run);
    if (plan.action !== 'done') {
      const result = await train(
        { ...options.config, run, seed },
        { resume: plan.action === 'resume', stopWhenStuck: true, stopWhenEscaped: !fullRun, signal: options.signal, callbacks: cb.train?.(seed) },
      );
      interrupted = result.interrupted;
    }
    const state = seedCheckpoint(runDir);
    if (!state) throw new Error(`seed ${seed}: '${runDir}' has no checkpoint after training; rerun the replication`);
    const { record, globalStep } = state;
    if (!settings) {
      settings = describeSettings(record);
      rule = describeRule(record);
    }
    const row: ReplicationRow = { ...notStarted(seed), ...outcomeOf(record, interrupted), steps: globalStep, epochs: record.history.length, completed: record.completed };
    // an interrupted run is evaluated when it is done, not now
    if (row.outcome !== 'unfinished' && !interrupted) {
      const before = cached.get(seed);
      if (before?.heldOut && before.evaluatedState === record.updatedAt) {
        row.heldOut = before.heldOut;
      } else {
        cb.onLog?.(`seed ${seed}: evaluating ${run} on its held-out split`);
        row.heldOut = await evaluateSeed(runDir, record, globalStep);
      }
      row.evaluatedState = record.updatedAt;
    }
    rows.push(row);
    cb.onRow?.(row);
    write();
    if (interrupted) break;
  }
  return { table: write(), files, interrupted };
}
