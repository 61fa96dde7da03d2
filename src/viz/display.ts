/**
 * Showing figures, images and tables in a tslab notebook.
 *
 * Each output is one Jupyter MIME bundle holding several representations; the frontend picks the
 * richest it can render. Plotly figures go out as `application/vnd.plotly.v1+json` (JupyterLab
 * and Notebook 7 render it with the plotly extension, even in an untrusted notebook) plus a
 * `text/html` fallback that loads plotly.js in the classic Notebook, plus `text/plain`.
 *
 * tslab's public `display` sends one MIME type per call, and two calls would make two outputs
 * (in JupyterLab the chart and, below it, the HTML fallback). So the default sink writes the whole
 * bundle through tslab's own `lastWriteDisplayData`, the function its `display.raw` calls; if a
 * tslab version lacks it, we fall back to `display.raw` with the plotly type alone.
 */
import { randomBytes } from 'crypto';
import type { PlotlyFigure } from './figures';
import { tableHtml, tableText, type Row, type TableHtmlOptions, type TableLike } from './tables';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** A Jupyter MIME bundle: MIME type -> representation (JSON types take objects). */
export type MimeBundle = Record<string, unknown>;

/**
 * Where bundles go. `displayId` makes an output that later calls with `update: true` replace
 * in place (Jupyter `update_display_data`).
 */
export type DisplaySink = (bundle: MimeBundle, target: { displayId?: string; update: boolean }) => void;

/** The slice of tslab's private `dist/jupyter` module the default sink uses. */
interface TslabJupyter {
  lastWriteDisplayData: ((data: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean) => void) | null;
}

interface TslabPublic {
  display: { raw(contentType: string, b: unknown): void };
  newDisplay(): { raw(contentType: string, b: unknown): void };
}

/**
 * The sink of the tslab kernel this code runs in. Throws outside a notebook: tslab only wires up
 * its display while a cell executes.
 */
export function tslabSink(): DisplaySink {
  /* eslint-disable @typescript-eslint/no-require-imports */
  let jupyter: TslabJupyter | undefined;
  try {
    jupyter = require('tslab/dist/jupyter') as TslabJupyter;
  } catch {
    jupyter = undefined;
  }
  const fallbacks = new Map<string, ReturnType<TslabPublic['newDisplay']>>();
  return (bundle, { displayId, update }) => {
    if (jupyter && 'lastWriteDisplayData' in jupyter) {
      const write = jupyter.lastWriteDisplayData;
      // tslab sets it when it executes its first cell: null means we are not in a notebook.
      if (!write) throw new Error('nothing to display on: notebook display works only inside a running tslab kernel');
      write({ data: bundle, metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
      return;
    }
    // Fallback through the public API: one MIME type, the richest we have.
    const tslab = require('tslab') as TslabPublic;
    const type = [PLOTLY_MIME, 'image/png', 'text/html', 'text/plain'].find((t) => t in bundle);
    if (!type) throw new Error(`cannot display a bundle of ${Object.keys(bundle).join(', ')} through tslab.display`);
    let target = tslab.display;
    if (displayId) {
      target = fallbacks.get(displayId) ?? tslab.newDisplay();
      fallbacks.set(displayId, target);
    }
    target.raw(type, bundle[type]);
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

/** plotly.js's CDN address for the version of `plotly.js-dist-min` installed with the project. */
export function plotlyCdnUrl(): string {
  let version = '3.0.1';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    version = (require('plotly.js-dist-min/package.json') as { version: string }).version;
  } catch {
    // not installed: the lowest version package.json allows
  }
  return `https://cdn.plot.ly/plotly-${version}.min.js`;
}

export interface PlotlyHtmlOptions {
  /**
   * Where the classic Notebook loads plotly.js from (JupyterLab never needs it).
   * @default plotlyCdnUrl(), e.g. 'https://cdn.plot.ly/plotly-3.7.0.min.js'
   */
  plotlyUrl?: string;
}

export const DEFAULT_PLOTLY_HTML_OPTIONS: Required<PlotlyHtmlOptions> = {
  plotlyUrl: plotlyCdnUrl(),
};

/** JSON that is safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/**
 * A self-contained HTML rendering of a figure: a div and a script that draws it with plotly.js,
 * loaded once per page (through require.js where the page has it, as the classic Notebook does).
 */
export function plotlyHtml(figure: PlotlyFigure, options: PlotlyHtmlOptions = {}): string {
  const opts = { ...DEFAULT_PLOTLY_HTML_OPTIONS, ...options };
  const id = `captcha-lab-plot-${randomBytes(6).toString('hex')}`;
  const height = typeof figure.layout.height === 'number' ? figure.layout.height : 400;
  const script = `(function () {
  var fig = ${scriptJson(figure)};
  var url = ${scriptJson(opts.plotlyUrl)};
  function draw(Plotly) { Plotly.newPlot(${scriptJson(id)}, fig.data, fig.layout, fig.config || { responsive: true }); }
  if (window.Plotly) { draw(window.Plotly); return; }
  if (typeof window.requirejs === 'function' && window.define && window.define.amd) {
    window.requirejs.config({ paths: { 'captcha-lab-plotly': url.replace(/\\.js$/, '') } });
    window.requirejs(['captcha-lab-plotly'], function (Plotly) { window.Plotly = Plotly; draw(Plotly); });
    return;
  }
  var s = document.createElement('script');
  s.src = url;
  s.onload = function () { draw(window.Plotly); };
  document.head.appendChild(s);
})();`;
  return `<div id="${id}" class="captcha-lab-plot" style="height:${height}px"></div>\n<script type="text/javascript">${script}</script>`;
}

/** Title of a figure for the text/plain representation. */
function figureTitle(figure: PlotlyFigure): string {
  const title = figure.layout.title as { text?: string } | string | undefined;
  return typeof title === 'string' ? title : (title?.text ?? 'untitled');
}

/** The MIME bundle of a plotly figure: plotly JSON, HTML fallback and a one-line text. */
export function plotlyBundle(figure: PlotlyFigure, options: PlotlyHtmlOptions = {}): MimeBundle {
  const traces = figure.data.map((t) => t.name ?? t.type).join(', ');
  return {
    [PLOTLY_MIME]: { data: figure.data, layout: figure.layout, config: figure.config ?? { responsive: true } },
    'text/html': plotlyHtml(figure, options),
    'text/plain': `Plotly figure '${figureTitle(figure)}': ${traces}`,
  };
}

/** Width and height of a PNG, read from its IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 24 || signature.some((b, i) => png[i] !== b)) throw new Error('not a PNG: the 8-byte PNG signature is missing');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** The MIME bundle of a PNG image. */
export function pngBundle(png: Uint8Array): MimeBundle {
  const { width, height } = pngSize(png);
  return { 'image/png': Buffer.from(png).toString('base64'), 'text/plain': `<PNG image ${width}x${height}>` };
}

/** The MIME bundle of a table (a danfojs DataFrame or rows): HTML plus aligned text. */
export function tableBundle(table: TableLike | readonly Row[], options: TableHtmlOptions = {}): MimeBundle {
  return { 'text/html': tableHtml(table, options), 'text/plain': tableText(table, options) };
}

/** One output area that each call replaces (progress lines, charts redrawn during training). */
export interface LiveOutput {
  plot(figure: PlotlyFigure): void;
  png(png: Uint8Array): void;
  html(html: string): void;
  text(text: string): void;
}

export interface NotebookDisplay extends LiveOutput {
  table(table: TableLike | readonly Row[], options?: TableHtmlOptions): void;
  /** A new output that later calls overwrite instead of appending. */
  live(): LiveOutput;
}

export interface NotebookDisplayOptions extends PlotlyHtmlOptions {
  /** Where bundles go. @default tslabSink() */
  sink?: DisplaySink;
}

/**
 * The notebooks' display: `const show = createNotebookDisplay();` then `show.plot(fig)`,
 * `show.png(bytes)`, `show.table(df)`, `show.live().text('epoch 1 ...')`.
 */
export function createNotebookDisplay(options: NotebookDisplayOptions = {}): NotebookDisplay {
  const { sink = tslabSink(), ...htmlOptions } = options;
  const output = (displayId?: string): LiveOutput => {
    let shown = false;
    const send = (bundle: MimeBundle) => {
      sink(bundle, { displayId, update: displayId !== undefined && shown });
      shown = true;
    };
    return {
      plot: (figure) => send(plotlyBundle(figure, htmlOptions)),
      png: (png) => send(pngBundle(png)),
      html: (html) => send({ 'text/html': html, 'text/plain': html.replace(/<[^>]*>/g, '') }),
      text: (text) => send({ 'text/plain': text }),
    };
  };
  return {
    ...output(),
    table: (table, tableOptions) => sink(tableBundle(table, tableOptions), { update: false }),
    live: () => output(randomBytes(8).toString('hex')),
  };
}
