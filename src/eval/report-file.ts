/**
 * Where `evaluate` writes its report: a file named after what was evaluated, so that a new
 * evaluation never replaces the report of another (e.g. `--fresh 5` over a model's committed
 * 10,000-image report), while rerunning the same evaluation replaces its own report.
 */
import * as fs from 'fs';
import * as path from 'path';
import { nearestExisting } from '../files';
import { formatTextLength } from './fresh';

/** What a report measured: the model, the images (`source`) and how outputs were read (`decoding`). */
export interface ReportIdentity {
  model: string;
  source: string;
  decoding: string;
}

/** The images an evaluation reads, as its default report name needs them. */
export type EvaluatedImages =
  | { kind: 'fresh'; count: number; seed: number | string; captchaVersion: string; length: number | readonly [number, number]; size?: { width: number; height: number } }
  | { kind: 'folder'; dir: string; split: 'test' | 'all' };

/** Characters safe in file names everywhere; others become '-'. */
function safeChars(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-');
}

/** A folder's name as part of a file name: safe characters, no runs of '-' or leading dots. */
function folderPart(dir: string): string {
  return safeChars(path.basename(path.resolve(dir))).replace(/-{2,}/g, '-').replace(/^[-.]+|-+$/g, '') || 'folder';
}

/**
 * The default report file name: `evaluation-fresh-<n>-seed-<s>-v<version>-<length>ch[-<W>x<H>].json` or
 * `evaluation-<folder name>-<split>.json`, with `-greedy` for greedy CTC decoding, `-calibrated` for a 0/O calibration,
 * and `-first-look` for a model with a 0/O reader read without it (`--no-second-look`).
 */
export function reportFileName(images: EvaluatedImages, greedy: boolean, calibrated = false, firstLookOnly = false): string {
  const what =
    images.kind === 'fresh'
      ? `fresh-${images.count}-seed-${safeChars(String(images.seed))}-v${safeChars(images.captchaVersion)}-${formatTextLength(images.length)}ch` +
        (images.size ? `-${images.size.width}x${images.size.height}` : '')
      : `${folderPart(images.dir)}-${images.split}`;
  return `evaluation-${what}${greedy ? '-greedy' : ''}${calibrated ? '-calibrated' : ''}${firstLookOnly ? '-first-look' : ''}.json`;
}

/** Describes a report for messages: its images and decoding. */
function describe(report: Partial<ReportIdentity>): string {
  return `${report.source ?? 'unknown images'}; ${report.decoding ?? 'decoding not recorded'}; model ${report.model ?? 'not recorded'}`;
}

/**
 * Refuses, before any work, to write a report over a file that is not the report of this same
 * evaluation (same model folder, images and decoding). A missing file is fine.
 */
export function checkReportTarget(file: string, identity: ReportIdentity): void {
  if (!fs.existsSync(file)) {
    // the folder is created when the report is written: a file in the way is found now, before any work
    const ancestor = nearestExisting(path.dirname(path.resolve(file)));
    if (!fs.statSync(ancestor).isDirectory()) throw new Error(`--out '${file}' cannot be written: '${ancestor}' is a file, not a folder; pass another --out`);
    return;
  }
  if (fs.statSync(file).isDirectory()) throw new Error(`--out '${file}' is a folder; give a file name, e.g. ${path.join(file, 'evaluation.json')}`);
  let old: Partial<ReportIdentity> | undefined;
  try {
    old = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ReportIdentity>;
  } catch {
    old = undefined;
  }
  if (!old || typeof old.source !== 'string') {
    throw new Error(`'${file}' exists and is not an evaluation report; pass another --out, or move the file away first`);
  }
  const sameModel = typeof old.model === 'string' && path.resolve(old.model) === path.resolve(identity.model);
  if (!sameModel || old.source !== identity.source || old.decoding !== identity.decoding) {
    throw new Error(
      `'${file}' holds the report of another evaluation (${describe(old)}), not of this one (${describe(identity)}); ` +
        'pass --out <file> to keep both, or delete it first to replace it',
    );
  }
}
