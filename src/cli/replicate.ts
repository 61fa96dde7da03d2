/**
 * `captcha-lab replicate`: one training configuration under several seeds, each its own run
 * `<run>-seed<N>`, stopped when stuck on the chance plateau; a table of which seeds escaped.
 * The work is src/train/replication.ts; this file parses flags and draws one progress line per seed.
 */
import { Command, InvalidArgumentError } from 'commander';
import { MultiBar, type SingleBar } from 'cli-progress';
import { pct } from '../eval/metrics';
import type { TrainConfig } from '../train';
import { describePlateau } from '../train/plateau';
import { describeOutcome, formatReplicationTable, replicate, type ReplicationRow } from '../train/replication';
import { addBackendOptions, parseIntArg, stageLogger, startBackend } from './common';
import { SIGNAL_EXIT_STATUS, withStopSignals } from './stop-signals';
import { readConfigFile } from './train';

/** `1,2,5-8` -> [1, 2, 5, 6, 7, 8]: seeds are integers >= 0, ranges inclusive. */
export function parseSeedList(value: string): number[] {
  const seeds: number[] = [];
  for (const part of value.split(',').map((p) => p.trim())) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!range) throw new InvalidArgumentError(`seeds must be whole numbers >= 0 separated by commas, with ranges like 5-8; got '${part}' in '${value}'`);
    const [from, to] = [Number(range[1]), Number(range[2] ?? range[1])];
    if (to < from) throw new InvalidArgumentError(`seed range '${part}' runs backwards; write ${to}-${from}`);
    for (let s = from; s <= to; s++) seeds.push(s);
  }
  return seeds;
}

/** The seeds of `--seeds`, or of `--count` from `--first-seed`; exactly one way. */
export function chooseSeeds(opts: { seeds?: number[]; count?: number; firstSeed?: number }): number[] {
  if (opts.seeds && (opts.count !== undefined || opts.firstSeed !== undefined)) {
    throw new Error('give the seeds one way: --seeds 1,2,3, or --count K with --first-seed S');
  }
  if (opts.seeds) return opts.seeds;
  if (opts.count === undefined) throw new Error('which seeds? pass --seeds 1,2,3 or --count K (seeds 1..K; --first-seed S starts at S)');
  const first = opts.firstSeed ?? 1;
  return Array.from({ length: opts.count }, (_, i) => first + i);
}

/** `escaped at step 412; held out 96.70% / 88.20%` for a finished bar. */
function rowStatus(row: ReplicationRow): string {
  const held = row.heldOut ? `; held out ${pct(row.heldOut.characterAccuracy)} char / ${pct(row.heldOut.wholeAccuracy)} whole` : '';
  return `${describeOutcome(row)}${held}`;
}

export function register(program: Command): void {
  const cmd = program
    .command('replicate')
    .description('train one configuration under several seeds (runs <run>-seed<N>), stop each when stuck on the chance plateau, and tabulate which escaped')
    .option('--config <file>', 'JSON file with the training settings, as for train (its seed is replaced by each seed)')
    .option('--run <name>', "the replication's name: runs are <name>-seed<N> (default: the config's run)")
    .option('--models-dir <dir>', 'where the runs and the table go (default models)')
    .option('--data-dir <dir>', 'dataset folder (default: the config\'s)')
    .option('--epochs <n>', 'epochs of a full run (default: the config\'s)', parseIntArg('epochs', 1))
    .option('--seeds <list>', 'seeds to train, e.g. 1,2,3 or 1-8', parseSeedList)
    .option('--count <k>', 'train k seeds, from --first-seed', parseIntArg('count', 1))
    .option('--first-seed <s>', 'first seed with --count (default 1)', parseIntArg('first seed', 0))
    .option('--train-escaped', 'train every escaped seed to all epochs (default: only the first escaped seed of the list; the others stop at the verdict)')
    .option('--out <path>', 'the table, written as <path>.md and <path>.json (default <models-dir>/<run>-replication)');
  addBackendOptions(cmd).action(async (opts) => {
    const seeds = chooseSeeds(opts);
    const log = stageLogger();
    const backend = await startBackend(opts);
    log(`backend ${backend.tfBackend}`);
    const fileConfig = opts.config ? readConfigFile(opts.config) : {};
    const flags = { run: opts.run, modelsDir: opts.modelsDir, dataDir: opts.dataDir, epochs: opts.epochs };
    const config = { ...fileConfig, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) } as Partial<TrainConfig>;

    const bars = new MultiBar({
      format: 'seed {seed} |{bar}| {value}/{total} steps | loss {loss} | dead {dead} | {status}',
      hideCursor: true,
      noTTYOutput: !process.stdout.isTTY,
      notTTYSchedule: 10000,
    });
    // above the bars on a terminal; elsewhere (a log file) at once, in order with the bars' lines
    const say = (line: string) => (process.stdout.isTTY && bars.isActive ? bars.log(`${line}\n`) : console.log(line));
    const lines = new Map<number, SingleBar>();
    const { result, stoppedBy } = await withStopSignals((signal) =>
      replicate({
        config,
        seeds,
        trainEscaped: Boolean(opts.trainEscaped),
        out: opts.out,
        signal,
        callbacks: {
          onLog: say,
          onSeed: (seed, plan, run) => {
            say(`seed ${seed} (${run}): ${plan.action === 'done' ? 'done' : plan.action}, ${plan.why}`);
            lines.set(seed, bars.create(1, 0, { seed, loss: '-', dead: '-', status: plan.action === 'done' ? plan.why : 'starting' }));
          },
          train: (seed) => {
            const bar = () => lines.get(seed) as SingleBar;
            return {
              onLog: (line) => say(`seed ${seed}: ${line}`),
              onStart: ({ batchesPerEpoch, config: resolved }) => bar().setTotal(batchesPerEpoch * resolved.epochs),
              onBatch: (p) => bar().update(p.epoch * p.batchesPerEpoch + p.batch, { loss: p.loss.toFixed(3), status: 'training' }),
              onPlateau: (plateau) => {
                const last = plateau.probes[plateau.probes.length - 1];
                bar().update({ dead: last ? pct(last.deadFraction) : '-', status: plateau.outcome === 'undecided' ? 'training' : describePlateau(plateau) });
              },
              onEpochEnd: (m) => say(`seed ${seed}: epoch ${m.epoch}: loss ${m.loss.toFixed(4)}, val char ${pct(m.valCharacterAccuracy)}, val whole ${pct(m.valWholeAccuracy)}`),
            };
          },
          onRow: (row) => {
            const bar = lines.get(row.seed) as SingleBar;
            bar.setTotal(Math.max(1, row.steps));
            bar.update(row.steps, { status: rowStatus(row) });
          },
        },
      }),
    ).finally(() => {
      if (process.stdout.isTTY && bars.isActive) bars.update(); // writes what is still waiting in the log buffer
      bars.stop();
    });
    console.log(formatReplicationTable(result.table));
    log(`table written to ${result.files.markdown} and ${result.files.json}`);
    if (result.interrupted) {
      console.error(`stopped by ${stoppedBy ?? 'an interrupt'}; run the same command again to resume`);
      process.exitCode = SIGNAL_EXIT_STATUS[stoppedBy ?? 'SIGINT'];
    }
  });
}
