/** `captcha-lab train`: every hyperparameter from flags or a JSON config. */
import * as fs from 'fs';
import * as path from 'path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { CAPTCHA_VERSIONS } from '../captcha';
import { INIT_SCHEMES } from '../models';
import { INPUT_FITS } from '../data';
import { DATA_SOURCES, DEFAULT_TRAIN_CONFIG, OPTIMIZERS, RENAMED_FLAGS, RESUMABLE_SETTINGS, SCHEDULES, TrainConfigSchema, flagOf, train, type TrainConfig, type TrainResult } from '../train';
import type { PlateauStopRules } from '../train/plateau';
import { addBackendOptions, parseFloatArg, parseIntArg, parseRangeArg, parseVersionListArg, pct, stageLogger, startBackend } from './common';
import { SIGNAL_EXIT_STATUS, withStopSignals, type StopSignal } from './stop-signals';

/** `conv1,bn1` -> layer names; an empty list is refused rather than freezing nothing. */
function parseLayerListArg(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError(`--freeze must name layers, comma-separated (e.g. conv1,bn1), got '${value}'`);
  return names;
}

/** The sizes a mix draws unless --mix-width/--mix-height say otherwise: 160x60, 170x80, 140x80 and between. */
export const DEFAULT_MIX_SIZES = { width: [140, 170] as [number, number], height: [60, 80] as [number, number] };

/** Parsed flags -> config fields; flags not given stay out and fall through to the file/defaults. */
export function configFromFlags(o: Record<string, unknown>, fileConfig: Record<string, unknown> = {}): Partial<TrainConfig> {
  const config: Record<string, unknown> = {};
  // every setting of the schema, optional ones included: a new setting needs no second list here
  for (const key of Object.keys(TrainConfigSchema.shape)) {
    if (o[key] !== undefined) config[key] = o[key];
  }
  for (const [flag, key] of Object.entries(RENAMED_FLAGS)) if (o[flag] !== undefined) config[key] = o[flag];
  // The mix flags override the config file's mix part by part.
  const fileMix = fileConfig.mix as Partial<NonNullable<TrainConfig['mix']>> | undefined;
  if (o.mixVersions !== undefined || ((o.mixWidth !== undefined || o.mixHeight !== undefined) && fileMix)) {
    config.mix = {
      versions: o.mixVersions ?? fileMix?.versions,
      width: o.mixWidth ?? fileMix?.width ?? DEFAULT_MIX_SIZES.width,
      height: o.mixHeight ?? fileMix?.height ?? DEFAULT_MIX_SIZES.height,
    };
  } else if (o.mixWidth !== undefined || o.mixHeight !== undefined) {
    throw new Error('--mix-width and --mix-height size a mix: add --mix-versions (e.g. --mix-versions 0.7.0,0.7.1,0.2.2)');
  }
  return config as Partial<TrainConfig>;
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`cannot read config file '${file}'; check the path`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`config file '${file}' is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new Error(`config file '${file}' holds ${got}; it must be a JSON object of settings, e.g. {"model": "seed-bn", "epochs": 3} (see configs/)`);
  }
  return value as Record<string, unknown>;
}

/** The command that continues the run in `runDir`: its own settings are the defaults of --resume. */
export function resumeCommand(runDir: string): string {
  const modelsDir = path.dirname(runDir);
  const where = path.normalize(modelsDir) === path.normalize(DEFAULT_TRAIN_CONFIG.modelsDir) ? '' : ` --models-dir ${modelsDir}`;
  return `captcha-lab train --run ${path.basename(runDir)}${where} --resume`;
}

/**
 * Runs training with a progress bar; Ctrl-C / SIGTERM stop after the batch and save a checkpoint,
 * and the result says which signal stopped it (`stoppedBy`).
 */
export async function runTrainCommand(
  config: Partial<TrainConfig>,
  options: { resume?: boolean; overwrite?: boolean } & PlateauStopRules,
): Promise<TrainResult & { stoppedBy: StopSignal | null }> {
  const log = stageLogger();
  let epochs = 0;
  const bar = new SingleBar({
    format: 'epoch {epoch} |{bar}| {value}/{total} | loss {loss} | heads {heads} | {ips} img/s | eta {eta_formatted}',
    hideCursor: true,
    noTTYOutput: !process.stdout.isTTY,
    notTTYSchedule: 10000,
  });
  try {
    const { result, stoppedBy } = await withStopSignals((signal) => train(config, {
      ...options,
      signal,
      callbacks: {
        onLog: log,
        onStart: ({ batchesPerEpoch, resumedFrom, config: resolved }) => {
          epochs = resolved.epochs;
          if (resumedFrom) log(`resuming from ${resumedFrom}`);
          bar.start(batchesPerEpoch, 0, { epoch: '-', loss: '-', heads: '-', ips: '-' });
        },
        onBatch: (p) => {
          if (p.batch === 1 || bar.getTotal() !== p.batchesPerEpoch) bar.setTotal(p.batchesPerEpoch);
          bar.update(p.batch, {
            epoch: p.epoch + 1,
            loss: p.loss.toFixed(3),
            heads: p.headAccuracy.map((a) => (100 * a).toFixed(0)).join('/'),
            ips: p.imagesPerSecond.toFixed(1),
          });
        },
        onEpochEnd: (m) => {
          bar.stop();
          log(
            `epoch ${m.epoch}: loss ${m.loss.toFixed(4)}, val loss ${m.valLoss.toFixed(4)}, ` +
              `val char ${pct(m.valCharacterAccuracy)}, val whole ${pct(m.valWholeAccuracy)}, ` +
              `${m.imagesPerSecond.toFixed(1)} img/s, data wait ${((100 * m.dataWaitSeconds) / m.trainSeconds).toFixed(1)}%`,
          );
          if (m.epoch < epochs) bar.start(bar.getTotal(), 0, { epoch: m.epoch + 1, loss: '-', heads: '-', ips: '-' });
        },
      },
    }));
    return { ...result, stoppedBy };
  } finally {
    bar.stop();
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train a model; the best checkpoint and run.json go to <models-dir>/<run>/')
    .option('--config <file>', 'JSON file with any of the settings below (flags override it)')
    .option('--run <name>', 'run name (folder under --models-dir)')
    .option('--models-dir <dir>', 'where runs are saved (default models)')
    .option('--model <name>', 'architecture from the registry (default seed)')
    .option('--height <px>', 'input height (default: the model\'s)', parseIntArg('height'))
    .option('--width <px>', 'input width (default: the model\'s)', parseIntArg('width'))
    .option('--channels <n>', '1 = grayscale, 3 = RGB (default: the model\'s)', parseIntArg('channels'))
    .addOption(new Option('--fit <how>', 'how images of another size are fitted to the input: stretch (default) or letterbox (same scale both ways, padded white; saved with the model, predict uses it)').choices([...INPUT_FITS]))
    .option('--alphabet <chars>', 'classes in label order (default 0-9A-Z)')
    .option('--length <n>', 'characters per CAPTCHA (default 4); the maximum with --min-length', parseIntArg('length'))
    .option('--min-length <n>', 'stream + CTC model: texts of min..length characters', parseIntArg('min length'))
    .addOption(new Option('--source <kind>', 'folder dataset or fresh generated images (default folder)').choices([...DATA_SOURCES]))
    .option('--data-dir <dir>', 'dataset folder for --source folder (default data/captchas)')
    .option('--dataset-size <n>', 'use only the first n images', parseIntArg('dataset size'))
    .option('--resize', 'resize images to the model input instead of refusing other sizes')
    .option('--images-per-epoch <n>', 'fresh images per epoch for --source stream', parseIntArg('images per epoch'))
    .option('--validation-images <n>', 'validation images for --source stream', parseIntArg('validation images'))
    .addOption(new Option('--captcha-version <v>', 'lepture release for --source stream (default 0.7.0; 0.2.2, 0.2.2-pillow4: March 2017)').choices(CAPTCHA_VERSIONS))
    .option('--mix-versions <list>', 'stream of several lepture releases, e.g. 0.7.0,0.7.1,0.2.2: each batch one version at a random size, fitted to the input (see --fit)', parseVersionListArg('mix versions'))
    .option('--mix-width <min-max>', `image widths of the mix (default ${DEFAULT_MIX_SIZES.width.join('-')})`, parseRangeArg('mix width'))
    .option('--mix-height <min-max>', `image heights of the mix (default ${DEFAULT_MIX_SIZES.height.join('-')})`, parseRangeArg('mix height'))
    .option('--init-from <dir>', 'start from the weights of a saved model (same --model or one it extends, input and alphabet): fine-tuning')
    .option('--freeze <layers>', 'comma-separated layers kept as --init-from left them (e.g. conv1,bn1): no gradient through them, faster steps', parseLayerListArg)
    .option('--val-split <fraction>', 'held-out fraction of a folder dataset (default 0.1)', parseFloatArg('validation split'))
    .option('--epochs <n>', 'epochs (default 3)', parseIntArg('epochs'))
    .option('--batch-size <n>', 'batch size (default 32)', parseIntArg('batch size'))
    .addOption(new Option('--optimizer <name>', 'optimizer (default adam)').choices([...OPTIMIZERS]))
    .option('--lr <rate>', 'learning rate (default 0.001)', parseFloatArg('learning rate'))
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule (default constant)').choices([...SCHEDULES]))
    .option('--warmup-steps <n>', 'linear warm-up steps (default 0)', parseIntArg('warm-up steps'))
    .option('--min-lr <rate>', 'final learning rate of the cosine schedule (default 0)', parseFloatArg('min learning rate'))
    .option('--seed <n>', 'seed of split, shuffles, init, dropout, stream (default 1)', parseIntArg('seed'))
    .option('--workers <n>', 'generator threads for --source stream (0 = all cores but one)', parseIntArg('workers'))
    .option('--curve-every-minutes <m>', 'score validation images every m minutes of training (0 = off)', parseFloatArg('curve period'))
    .option('--curve-images <n>', 'validation images scored for each curve point (default 1000)', parseIntArg('curve images'))
    .addOption(new Option('--init <scheme>', "weight initialisation of seed/seed-bn (default: the model's own, he); mathematica = the 2017 run's").choices([...INIT_SCHEMES]))
    .option('--beta1 <b>', "Adam's first-moment decay (default 0.9; Mathematica 11.0: 0.93)", parseFloatArg('beta1'))
    .option('--beta2 <b>', "Adam's second-moment decay (default 0.999)", parseFloatArg('beta2'))
    .option('--epsilon <e>', "Adam's / RMSprop's epsilon (default 1e-7; Mathematica 11.0: 1e-8)", parseFloatArg('epsilon'))
    .option('--plateau-probe-every <n>', "every n steps count the last conv's ReLU units that fire on fixed training images (default 20; 0 = off)", parseIntArg('plateau probe period', 0))
    .option('--plateau-probe-images <n>', 'training images of that probe (default 128)', parseIntArg('plateau probe images', 1))
    .option('--stuck-after-steps <n>', 'steps with no unit firing after which the run is stuck (default 100)', parseIntArg('stuck after steps', 1))
    .option('--stop-when-stuck', 'stop (with a checkpoint; --resume trains on) once the run is stuck on the chance plateau')
    .option('--stop-when-escaped', 'stop (with a checkpoint) once the run has left the chance plateau, e.g. to screen seeds')
    .option('--overwrite', 'replace a run folder that already holds a model: its model, run.json, checkpoint and evaluation*.json reports are removed')
    .option(
      '--resume',
      'continue the run from its checkpoint with its own settings (`train --run NAME --resume` is enough); ' +
        `other settings are refused, except ${RESUMABLE_SETTINGS.map(flagOf).join(' ')} (e.g. --epochs to lengthen the run)`,
    );
  addBackendOptions(cmd).action(async (opts) => {
    const log = stageLogger();
    const backend = await startBackend(opts);
    log(`backend ${backend.tfBackend}`);
    const fileConfig = opts.config ? readConfigFile(opts.config) : {};
    const flags = configFromFlags(opts, fileConfig);
    const config = { ...fileConfig, ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) };
    const { record, runDir, interrupted, stopped, stoppedBy } = await runTrainCommand(config as Partial<TrainConfig>, {
      resume: Boolean(opts.resume), overwrite: Boolean(opts.overwrite), stopWhenStuck: opts.stopWhenStuck, stopWhenEscaped: opts.stopWhenEscaped,
    });
    const ending = interrupted ? 'interrupted; checkpoint' : stopped ? `stopped: ${stopped}; checkpoint` : 'done; best model';
    log(`${ending} in ${runDir} (${record.trainedSeconds.toFixed(0)} s training)`);
    if (record.best) log(`best: epoch ${record.bestEpoch}, val char ${pct(record.best.valCharacterAccuracy)}, whole ${pct(record.best.valWholeAccuracy)}`);
    if (interrupted) {
      // not 0: `train && evaluate` must not go on to evaluate a run that did not finish
      console.error(`stopped by ${stoppedBy ?? 'an interrupt'} before the last epoch; continue with: ${resumeCommand(runDir)}`);
      process.exitCode = SIGNAL_EXIT_STATUS[stoppedBy ?? 'SIGINT'];
    } else if (stopped) {
      // a stop the user asked for (--stop-when-*): exit 0, with the way on
      log(`the run is ${stopped} (run.json's plateau); to train on: ${resumeCommand(runDir)}`);
    }
  });
}
