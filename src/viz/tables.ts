/**
 * Rows for the notebooks' tables (plain objects: `new dfd.DataFrame(rows)` makes a danfojs
 * DataFrame of them) and an HTML rendering of a DataFrame or of rows, since danfojs-node has only
 * a text one.
 */
import { formatConfusionPair, pct, type EvaluationReport } from '../eval/metrics';

/** A table as danfojs DataFrames expose it: column names and row-major values. */
export interface TableLike {
  columns: readonly string[];
  values: ReadonlyArray<ReadonlyArray<unknown>> | ReadonlyArray<unknown>;
  /** Row labels (danfojs `index`). */
  index?: ReadonlyArray<string | number>;
}

export type Row = Record<string, string | number | boolean | null>;

/** How often each character of the alphabet occurs, overall and at each position. */
export interface CharacterFrequencyRow extends Row {
  char: string;
  count: number;
  /** Fraction of all characters. */
  share: number;
}

/**
 * Character counts over texts: one row per alphabet character, in alphabet order, with a column
 * `pos1..posN` per position. A uniform generator gives every character a share near 1/k.
 */
export function characterFrequencies(texts: readonly string[], alphabet: string): CharacterFrequencyRow[] {
  const length = Math.max(0, ...texts.map((t) => t.length));
  const counts = new Map<string, number[]>([...alphabet].map((c) => [c, new Array<number>(length + 1).fill(0)]));
  let total = 0;
  texts.forEach((text, i) => {
    [...text].forEach((ch, p) => {
      const row = counts.get(ch);
      if (!row) throw new Error(`text '${text}' (#${i}) has '${ch}', which is not in the alphabet '${alphabet}'`);
      row[0]++;
      row[p + 1]++;
      total++;
    });
  });
  return [...alphabet].map((char) => {
    const c = counts.get(char) as number[];
    const row: CharacterFrequencyRow = { char, count: c[0], share: total ? c[0] / total : 0 };
    for (let p = 1; p <= length; p++) row[`pos${p}`] = c[p];
    return row;
  });
}

/** Figures that say whether a dataset is what it should be. */
export interface DatasetStatisticsRow extends Row {
  statistic: string;
  value: string | number;
}

export interface DatasetStatisticsOptions {
  /** Image size, if known, for the table. */
  imageSize?: { width: number; height: number };
  /** Total bytes of the image files, if known. */
  bytes?: number;
}

/**
 * Count, distinct texts, lengths and how even the character distribution is (the smallest and
 * largest character counts against the uniform expectation).
 */
export function datasetStatistics(texts: readonly string[], alphabet: string, options: DatasetStatisticsOptions = {}): DatasetStatisticsRow[] {
  if (texts.length === 0) throw new Error('no texts: the dataset is empty');
  const freq = characterFrequencies(texts, alphabet);
  const lengths = texts.map((t) => t.length);
  const totalChars = lengths.reduce((a, b) => a + b, 0);
  const expected = totalChars / alphabet.length;
  const sorted = [...freq].sort((a, b) => a.count - b.count || a.char.localeCompare(b.char));
  const least = sorted[0];
  const most = sorted[sorted.length - 1];
  const rows: DatasetStatisticsRow[] = [
    { statistic: 'images', value: texts.length },
    { statistic: 'distinct texts', value: new Set(texts).size },
    { statistic: 'characters per text', value: Math.min(...lengths) === Math.max(...lengths) ? lengths[0] : `${Math.min(...lengths)}-${Math.max(...lengths)}` },
    { statistic: 'alphabet size', value: alphabet.length },
    { statistic: 'expected count per character', value: Number(expected.toFixed(1)) },
    { statistic: 'least frequent character', value: `${least.char} (${least.count})` },
    { statistic: 'most frequent character', value: `${most.char} (${most.count})` },
  ];
  if (options.imageSize) rows.push({ statistic: 'image size', value: `${options.imageSize.width}x${options.imageSize.height}` });
  if (options.bytes !== undefined) {
    rows.push({ statistic: 'size on disk', value: `${(options.bytes / 1e6).toFixed(2)} MB (${Math.round(options.bytes / texts.length)} bytes/image)` });
  }
  return rows;
}

/** One row per setting of an options or config object, values as text (for a two-column table). */
export function settingsRows(settings: object): Array<{ setting: string; value: string }> {
  return Object.entries(settings).map(([setting, value]) => ({
    setting,
    value: value === undefined ? '(default)' : typeof value === 'object' ? JSON.stringify(value) : String(value),
  }));
}

/** One row per registered architecture: name, head kind, default input (WxHxC), description. */
export function modelRegistryRows(
  specs: ReadonlyArray<{ name: string; head: string; description: string; defaultInput: { height: number; width: number; channels: number } }>,
): Array<{ name: string; head: string; input: string; description: string }> {
  return specs.map((m) => ({
    name: m.name,
    head: m.head,
    input: `${m.defaultInput.width}x${m.defaultInput.height}x${m.defaultInput.channels}`,
    description: m.description,
  }));
}

export interface EpochRow extends Row {
  epoch: number;
  loss: number;
  valLoss: number;
  valCharacterAccuracy: string;
  valWholeAccuracy: string;
  imagesPerSecond: number;
  seconds: number;
}

/** A run's history as a table: losses, validation accuracy, speed and time per epoch. */
export function epochRows(
  history: ReadonlyArray<{ epoch: number; loss: number; valLoss: number; valCharacterAccuracy: number; valWholeAccuracy: number; imagesPerSecond: number; seconds: number }>,
): EpochRow[] {
  return history.map((h) => ({
    epoch: h.epoch,
    loss: h.loss,
    valLoss: h.valLoss,
    valCharacterAccuracy: pct(h.valCharacterAccuracy),
    valWholeAccuracy: pct(h.valWholeAccuracy),
    imagesPerSecond: Number(h.imagesPerSecond.toFixed(1)),
    seconds: Number(h.seconds.toFixed(1)),
  }));
}

export interface AccuracyRow extends Row {
  metric: string;
  accuracy: string;
}

/** The accuracy table: whole-image, character and per-position accuracy, as percentages. */
export function accuracyRows(report: Pick<EvaluationReport, 'count' | 'characterAccuracy' | 'wholeAccuracy' | 'perPositionAccuracy'>): AccuracyRow[] {
  return [
    { metric: `whole image (all characters right, ${report.count} images)`, accuracy: pct(report.wholeAccuracy) },
    { metric: 'character', accuracy: pct(report.characterAccuracy) },
    ...report.perPositionAccuracy.map((a, p) => ({ metric: `character at position ${p + 1}`, accuracy: pct(a) })),
  ];
}

export interface ConfusionPairRow extends Row {
  actual: string;
  predicted: string;
  count: number;
  /** Share of all wrong characters. */
  share: string;
  /** The original's notation `{predicted,true}->count`. */
  original: string;
}

/** The most frequent (true, predicted) confusions, with their share of all errors. */
export function confusionPairRows(report: Pick<EvaluationReport, 'confusionPairs'>, limit = 15): ConfusionPairRow[] {
  const errors = report.confusionPairs.reduce((n, p) => n + p.count, 0);
  return report.confusionPairs.slice(0, limit).map((p) => ({
    actual: p.actual,
    predicted: p.predicted,
    count: p.count,
    share: pct(p.count / errors),
    original: formatConfusionPair(p),
  }));
}

/** One matrix cell as `matrixComparisonRows` needs it (a `MatrixCell` of src/eval). */
export interface ComparedMatrixCell {
  version: string;
  width: number;
  height: number;
  wholeAccuracy: number;
  errors: number;
}

export interface MatrixComparisonRow extends Row {
  version: string;
  size: string;
  before: string;
  after: string;
  errors: string;
}

/**
 * Two matrices of the same cells side by side (e.g. without and with the second look at 0/O):
 * whole-image accuracy before and after, and the errors before -> after. Cells only one has are left out.
 */
export function matrixComparisonRows(before: readonly ComparedMatrixCell[], after: readonly ComparedMatrixCell[]): MatrixComparisonRow[] {
  return before.flatMap((b) => {
    const a = after.find((c) => c.version === b.version && c.width === b.width && c.height === b.height);
    if (!a) return [];
    return [{ version: b.version, size: `${b.width}x${b.height}`, before: pct(b.wholeAccuracy), after: pct(a.wholeAccuracy), errors: `${b.errors} -> ${a.errors}` }];
  });
}

function isTableLike(table: unknown): table is TableLike {
  return typeof table === 'object' && table !== null && Array.isArray((table as TableLike).columns) && Array.isArray((table as TableLike).values);
}

/** Columns and row-major cells of a DataFrame-like table or of an array of row objects. */
export function tableCells(table: TableLike | readonly Row[]): { columns: string[]; rows: unknown[][]; index?: Array<string | number> } {
  if (isTableLike(table)) {
    const columns = [...table.columns];
    const values = table.values as ReadonlyArray<unknown>;
    // A one-column danfojs frame (or a Series) has flat values.
    const rows = values.map((v) => (Array.isArray(v) ? [...v] : [v]));
    return { columns, rows, index: table.index ? [...table.index] : undefined };
  }
  if (!Array.isArray(table)) {
    throw new Error('a table must be a danfojs DataFrame or an array of row objects');
  }
  const columns: string[] = [];
  for (const row of table) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return { columns, rows: table.map((row) => columns.map((c) => row[c])) };
}

function cellText(value: unknown, digits: number): string {
  // Rounded, without trailing zeros: 60.1 rather than 60.1000.
  if (typeof value === 'number' && !Number.isInteger(value)) return String(Number(value.toFixed(digits)));
  if (value === null || value === undefined) return '';
  return String(value);
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface TableHtmlOptions {
  /** Rows shown; the rest are summarised in one line. @default 50 */
  maxRows?: number;
  /** Most decimals shown of non-integer numbers (trailing zeros are dropped). @default 4 */
  digits?: number;
  /** Show the row labels (the DataFrame index) as the first column. @default false */
  showIndex?: boolean;
  /** Caption above the table. */
  caption?: string;
}

export const DEFAULT_TABLE_HTML_OPTIONS: Required<Omit<TableHtmlOptions, 'caption'>> = {
  maxRows: 50,
  digits: 4,
  showIndex: false,
};

/** A compact HTML table (Jupyter's own table style applies); numbers are right-aligned. */
export function tableHtml(table: TableLike | readonly Row[], options: TableHtmlOptions = {}): string {
  const opts = { ...DEFAULT_TABLE_HTML_OPTIONS, ...options };
  const { columns, rows, index } = tableCells(table);
  const shown = rows.slice(0, opts.maxRows);
  const withIndex = opts.showIndex && index !== undefined;
  const th = (s: string) => `<th>${escapeHtml(s)}</th>`;
  const td = (v: unknown) => `<td style="text-align:${typeof v === 'number' ? 'right' : 'left'}">${escapeHtml(cellText(v, opts.digits))}</td>`;
  const head = `<tr>${withIndex ? '<th></th>' : ''}${columns.map(th).join('')}</tr>`;
  const body = shown.map((r, i) => `<tr>${withIndex ? th(String(index[i])) : ''}${r.map(td).join('')}</tr>`).join('');
  const more = rows.length > shown.length ? `<p style="font-size:smaller">... ${rows.length - shown.length} more rows</p>` : '';
  const caption = opts.caption ? `<caption style="caption-side:top;text-align:left;font-weight:bold">${escapeHtml(opts.caption)}</caption>` : '';
  return `<table class="captcha-lab-table">${caption}<thead>${head}</thead><tbody>${body}</tbody></table>${more}`;
}

/** The same table as aligned plain text (what a text-only frontend or a log shows). */
export function tableText(table: TableLike | readonly Row[], options: Pick<TableHtmlOptions, 'maxRows' | 'digits'> = {}): string {
  const opts = { ...DEFAULT_TABLE_HTML_OPTIONS, ...options };
  const { columns, rows } = tableCells(table);
  const cells = [columns, ...rows.slice(0, opts.maxRows).map((r) => r.map((v) => cellText(v, opts.digits)))];
  const widths = columns.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const lines = cells.map((r) => r.map((v, c) => (v ?? '').padEnd(widths[c])).join('  ').trimEnd());
  if (rows.length > opts.maxRows) lines.push(`... ${rows.length - opts.maxRows} more rows`);
  return lines.join('\n');
}
