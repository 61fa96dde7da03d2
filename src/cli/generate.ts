/** `captcha-lab generate`: writes a dataset folder of lepture-style CAPTCHAs (all cores, resumable). */
import * as os from 'os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { SingleBar } from 'cli-progress';
import { CAPTCHA_SIDE, CAPTCHA_VERSION_PROFILES, CAPTCHA_VERSIONS, IMAGE_FORMATS, type CaptchaVersion, type ImageFormat } from '../captcha';
import { MAX_DATASET_IMAGES, writeDataset, type WriteDatasetOptions, type WriteDatasetResult } from '../data';
import { parseIntArg, parseSideArg, stageLogger } from './common';

function parseProbability(value: string): number {
  const p = Number(value);
  if (!(p >= 0 && p <= 1)) throw new InvalidArgumentError(`must be a probability between 0 and 1, got '${value}'`);
  return p;
}

/** `42,50,56` -> [42, 50, 56] */
function parseSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((s) => !Number.isFinite(s) || s <= 0)) {
    throw new InvalidArgumentError(`font sizes must be positive numbers separated by commas, e.g. 42,50,56; got '${value}'`);
  }
  return sizes;
}

/** `4` -> 4, `3-6` -> [3, 6] */
function parseLength(value: string): number | [number, number] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(value);
  const min = m ? Number(m[1]) : NaN;
  const max = m?.[2] !== undefined ? Number(m[2]) : min;
  if (!m || min < 1 || max < min) {
    throw new InvalidArgumentError(`length must be a positive integer or a range such as 3-6, got '${value}'`);
  }
  return min === max ? min : [min, max];
}

/** A version's default font sizes as the flag takes them: `42,50,56`. */
const defaultSizes = (version: CaptchaVersion): string => CAPTCHA_VERSION_PROFILES[version].fontSizes.join(',');

/**
 * Parsed commander options -> writer options. Every flag has a default except the font sizes and
 * the space probability, whose defaults depend on the version (undefined = the version's).
 */
export function optionsFromFlags(o: Record<string, unknown>): WriteDatasetOptions {
  const seed = o.seed as string;
  return {
    out: o.out as string,
    count: o.count as number,
    seed: /^-?\d+$/.test(seed) && Number.isSafeInteger(Number(seed)) ? Number(seed) : seed,
    format: o.format as ImageFormat,
    quality: o.quality as number,
    workers: o.workers as number,
    captcha: {
      width: o.width as number,
      height: o.height as number,
      fonts: (o.font as string[] | undefined)?.length ? (o.font as string[]) : undefined,
      fontSizes: o.fontSizes as number[],
      version: o.captchaVersion as CaptchaVersion,
      wordSpaceProbability: o.wordSpaceProbability as number,
    },
    text: {
      length: o.length as number | [number, number],
      alphabet: o.alphabet as string,
      unique: !o.allowRepeats,
    },
  };
}

/** Runs the writer with a progress bar and stage lines. */
export async function runGenerate(options: WriteDatasetOptions): Promise<WriteDatasetResult> {
  const log = stageLogger();
  const c = options.captcha ?? {};
  log(
    `generating ${options.count} images into '${options.out}': lepture ${c.version ?? '0.7.0'}, ` +
      `${c.width ?? 160}x${c.height ?? 60}, ${options.format ?? 'jpg'}, seed ${options.seed ?? 0}, ` +
      `${options.workers ?? os.availableParallelism()} workers`,
  );
  const bar = new SingleBar({
    format: 'generate |{bar}| {value}/{total} | {ips} img/s | eta {eta_formatted}',
    hideCursor: true,
    noTTYOutput: !process.stdout.isTTY,
    notTTYSchedule: 10000,
  });
  let started = false;
  let first = 0;
  const t0 = performance.now();
  try {
    const result = await writeDataset({
      ...options,
      onProgress: (done, total) => {
        if (!started) {
          started = true;
          first = done;
          if (done > 0) log(`resuming: ${done} of ${total} images already there`);
          if (done < total) bar.start(total, done, { ips: '-' });
        }
        if (done === first) return;
        const s = (performance.now() - t0) / 1000;
        bar.update(done, { ips: s > 0 ? ((done - first) / s).toFixed(0) : '-' });
      },
    });
    bar.stop();
    log(
      `done: ${result.generated} written, ${result.skipped} kept, labels.txt and manifest.json in '${result.out}' ` +
        `(${result.seconds.toFixed(1)} s total, ${(result.generated / result.seconds).toFixed(0)} images/s)`,
    );
    return result;
  } catch (err) {
    bar.stop();
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('generate')
    .description('write a folder of CAPTCHA images (0.jpg ... N-1.jpg), labels.txt and manifest.json; reruns complete it and regenerate damaged images')
    .requiredOption('--out <dir>', 'dataset folder (created; must be empty or hold the same dataset; locked while generating)')
    .option('--count <n>', `number of images (at most ${MAX_DATASET_IMAGES.toLocaleString('en-US')} per folder)`, parseIntArg('count', 1), 1000)
    .option('--seed <seed>', 'seed of the dataset (integer or string)', '0')
    .option('--width <px>', `image width (${CAPTCHA_SIDE.min} to ${CAPTCHA_SIDE.max})`, parseSideArg('width'), 160)
    .option('--height <px>', `image height (${CAPTCHA_SIDE.min} to ${CAPTCHA_SIDE.max})`, parseSideArg('height'), 60)
    .addOption(new Option('--format <fmt>', 'image file format').choices([...IMAGE_FORMATS]).default('jpg'))
    .option('--quality <q>', 'JPEG quality 1-100', parseIntArg('quality', 1), 75)
    .option(
      '--font <path>',
      'TrueType font file, repeatable (default: Noto Mono with DroidSansMono box metrics)',
      (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
    )
    .option('--font-sizes <list>', `font sizes in px, comma-separated (default: ${defaultSizes('0.7.0')}; ${defaultSizes('0.2.2')} for 0.2.2)`, parseSizes)
    .option('--length <n|min-max>', 'characters per image, or a range for variable length', parseLength, 4)
    .option('--alphabet <chars>', 'characters to draw from (ranges allowed; visible characters that stand alone, no combining marks)', '0-9A-Z')
    .option('--allow-repeats', 'allow a character more than once per text (default: distinct characters)')
    .addOption(
      new Option(
        '--captcha-version <v>',
        "lepture release to follow (0.7.1 = today's PyPI: weaker warp; 0.2.2 = March 2017: bigger fonts, no spaces, " +
          "long texts resized to the width; 0.2.2-pillow4 = 0.2.2 with Pillow 4's NEAREST resize, the 2017 look)",
      )
        .choices([...CAPTCHA_VERSIONS])
        .default('0.7.0'),
    )
    .option(
      '--word-space-probability <p>',
      'chance of a blank glyph before each character (default: 0.5; 0.2.2 draws none, so only 0 there)',
      parseProbability,
    )
    .option('--workers <n>', 'worker threads (0 = main thread only)', parseIntArg('workers', 0), os.availableParallelism())
    .action(async (flags: Record<string, unknown>) => {
      await runGenerate(optionsFromFlags(flags));
    });
}
