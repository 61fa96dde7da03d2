/**
 * The notebooks in a real browser: starts JupyterLab (from .venv) on the executed notebooks of
 * `npm run test:notebooks`, opens each in headless Chromium through playwright-core, checks that
 * every plotly chart and every PNG output of the notebook is drawn on the page, and saves a
 * screenshot to docs/notebooks-<name>.png. JupyterLab is shut down afterwards, also on failure.
 *
 *   npm run test:browser                 03-training and 04-error-analysis
 *   npm run test:browser -- 04           only those whose names start with the arguments
 *
 * The executed notebooks are untrusted (nobody signed them), so this also checks that the charts
 * render without trust, through plotly's MIME renderer rather than the HTML fallback's script.
 */
import { spawn, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writeFileAtomic } from '../src/files';
import { PLOTLY_MIME } from '../src/viz/display';

const ROOT = path.resolve(__dirname, '..', '..');
const EXECUTED = path.join(ROOT, 'notebooks', '.executed');
/** Screenshots go beside the executed notebooks; `--docs` refreshes the ones the README shows. */
const UPDATE_DOCS = process.argv.includes('--docs');
const DOCS = UPDATE_DOCS ? path.join(ROOT, 'docs') : EXECUTED;
const DEFAULT_NOTEBOOKS = ['03-training', '04-error-analysis'];
/** The section each screenshot starts at (its `##` heading); others start at their first chart. */
const SCREENSHOT_SECTIONS: Record<string, string> = {
  '03-training': 'Training',
  '04-error-analysis': 'Confusion matrix',
};
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface Expected {
  name: string;
  file: string;
  charts: number;
  images: number;
}

/** How many charts and images the executed notebook holds: the page must draw them all. */
function expectedOutputs(name: string): Expected {
  const file = path.join(EXECUTED, `${name}.ipynb`);
  if (!fs.existsSync(file)) {
    throw new Error(`${path.relative(ROOT, file)} does not exist; run \`npm run test:notebooks\` first`);
  }
  const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Array<{ outputs?: Array<{ data?: Record<string, unknown> }> }> };
  let charts = 0;
  let images = 0;
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      if (out.data?.[PLOTLY_MIME]) charts++;
      else if (out.data?.['image/png']) images++;
    }
  }
  return { name, file, charts, images };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** JupyterLab settings for a clean, complete page: every cell rendered, no news pop-up. */
function writeLabSettings(dir: string): void {
  const settings: Record<string, unknown> = {
    // Lab renders only the cells near the viewport by default; the check needs all of them.
    '@jupyterlab/notebook-extension/tracker.jupyterlab-settings': { windowingMode: 'none' },
    '@jupyterlab/apputils-extension/notification.jupyterlab-settings': { fetchNews: 'false', checkForUpdates: false },
  };
  for (const [file, value] of Object.entries(settings)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), JSON.stringify(value));
  }
}

class JupyterLab {
  private readonly exited: Promise<void>;

  private constructor(
    readonly url: string,
    readonly token: string,
    private readonly proc: ChildProcess,
    private readonly logFile: string,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  private get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  static async start(rootDir: string, work: string): Promise<JupyterLab> {
    const jupyter = path.join(ROOT, '.venv', 'bin', 'jupyter');
    if (!fs.existsSync(jupyter)) throw new Error(`${jupyter} is missing; run \`npm run setup\``);
    const port = await freePort();
    const token = crypto.randomBytes(24).toString('hex');
    const settingsDir = path.join(work, 'settings');
    writeLabSettings(settingsDir);
    const logFile = path.join(work, 'jupyter.log');
    const log = fs.openSync(logFile, 'w');
    const args = [
      'lab', '--no-browser', `--port=${port}`, '--ip=127.0.0.1', `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${rootDir}`, '--ServerApp.port_retries=0',
      `--LabApp.user_settings_dir=${settingsDir}`, `--LabApp.workspaces_dir=${path.join(work, 'workspaces')}`,
      // Containers and CI often run as root, which Jupyter refuses without this.
      ...(process.getuid?.() === 0 ? ['--allow-root'] : []),
    ];
    const proc = spawn(jupyter, args, {
      cwd: rootDir,
      // Its own process group, so that everything it started can be stopped together.
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        JUPYTER_CONFIG_DIR: path.join(work, 'config'),
        JUPYTER_RUNTIME_DIR: path.join(work, 'runtime'),
        TF_CPP_MIN_LOG_LEVEL: '2',
      },
    });
    fs.closeSync(log);
    const lab = new JupyterLab(`http://127.0.0.1:${port}`, token, proc, logFile);
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (!lab.running) throw new Error(`JupyterLab exited with code ${proc.exitCode}:\n${lab.logTail()}`);
      try {
        const res = await lab.api('GET', '/api/status');
        if (res.ok) return lab;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await lab.stop();
        throw new Error(`JupyterLab did not answer on ${lab.url} within 90 s:\n${lab.logTail()}`);
      }
      await sleep(500);
    }
  }

  api(method: string, route: string): Promise<Response> {
    return fetch(`${this.url}${route}`, { method, headers: { Authorization: `token ${this.token}` }, signal: AbortSignal.timeout(5000) });
  }

  logTail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * Shuts the kernels down through the API (they run in their own sessions, outside our process
   * group), then the server; signals the whole group if it does not exit in time.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    try {
      const kernels = (await (await this.api('GET', '/api/kernels')).json()) as Array<{ id: string }>;
      await Promise.all(kernels.map((k) => this.api('DELETE', `/api/kernels/${k.id}`)));
      await this.api('POST', '/api/shutdown');
    } catch {
      // the server may already be gone; the signals below make sure
    }
    const waitExit = (ms: number) => Promise.race([this.exited.then(() => true), sleep(ms).then(() => false)]);
    if (await waitExit(10_000)) return;
    const group = -(this.proc.pid as number);
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      return;
    }
    if (await waitExit(5_000)) return;
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

interface CheckResult {
  name: string;
  charts: number;
  images: number;
  screenshot: string;
  seconds: number;
}

/** Opens one notebook, waits for every chart and image, and takes the screenshot. */
async function checkNotebook(page: Page, lab: JupyterLab, expected: Expected): Promise<CheckResult> {
  const start = performance.now();
  const failure = path.join(EXECUTED, `${expected.name}-failure.png`);
  fs.rmSync(failure, { force: true });
  await page.goto(`${lab.url}/lab/tree/${encodeURIComponent(path.basename(expected.file))}?token=${lab.token}&reset`);
  await page.waitForSelector('.jp-Notebook .jp-Cell', { timeout: 60_000 });
  // The plotly renderer makes the output element itself the plot; PNG outputs are rendered images.
  const CHART = '.jp-OutputArea-output.js-plotly-plot, .jp-OutputArea-output .js-plotly-plot';
  const IMAGE = '.jp-OutputArea-output.jp-RenderedImage img, .jp-OutputArea-output .jp-RenderedImage img';
  const plots = page.locator(CHART);
  const images = page.locator(IMAGE);
  // Charts are drawn when plotly has put its SVG into them; images when the PNG is decoded.
  // A string, not a function: this project compiles without the DOM library.
  const allDrawn = `(() => {
    const drawn = [...document.querySelectorAll(${JSON.stringify(CHART)})]
      .filter((el) => el.querySelector('svg.main-svg') && el.offsetHeight > 100);
    const decoded = [...document.querySelectorAll(${JSON.stringify(IMAGE)})]
      .filter((img) => img.complete && img.naturalWidth > 0);
    return drawn.length >= ${expected.charts} && decoded.length >= ${expected.images};
  })()`;
  await page.waitForFunction(allDrawn, undefined, { timeout: 90_000 }
  ).catch(async () => {
    const got = { charts: await plots.count(), images: await images.count() };
    // What the page looked like, for whoever has to find out why (gitignored, beside the notebook).
    await page.screenshot({ path: failure, fullPage: true }).catch(() => undefined);
    const outputs = await page
      .locator('.jp-OutputArea-output')
      .evaluateAll((els) => els.map((el) => `${el.className}: ${el.firstElementChild?.className ?? ''}`.slice(0, 160)));
    console.error(`[browser] ${expected.name}: outputs on the page:\n  ${outputs.join('\n  ')}\n  screenshot: ${path.relative(ROOT, failure)}`);
    const missing = await page.locator('.jp-OutputArea-output:has-text("No renderer could be found")').count();
    throw new Error(
      `${expected.name}: expected ${expected.charts} drawn charts and ${expected.images} images, found ${got.charts} chart containers and ${got.images} images` +
        (missing ? `; ${missing} outputs had no renderer (is the plotly lab extension installed in .venv?)` : ''),
    );
  });
  const counts = { charts: await plots.count(), images: await images.count() };
  if (counts.charts < expected.charts || counts.images < expected.images) {
    throw new Error(`${expected.name}: only ${counts.charts}/${expected.charts} charts and ${counts.images}/${expected.images} images on the page`);
  }
  // A clean picture for the README: no file browser, the first chart's section at the top.
  const openSidePanel = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current');
  if ((await openSidePanel.count()) > 0) await openSidePanel.first().click();
  const heading = SCREENSHOT_SECTIONS[expected.name];
  const target = heading
    ? page.locator('.jp-MarkdownCell h2', { hasText: new RegExp(`^${heading}`) }).first()
    : page.locator('.jp-Cell', { has: page.locator('.js-plotly-plot svg.main-svg') }).first();
  if ((await target.count()) === 0) throw new Error(`${expected.name}: no section '${heading}' to frame the screenshot on`);
  // Closing the side panel re-lays out the charts and images; scroll once that has settled.
  await sleep(800);
  await target.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await sleep(800);
  fs.mkdirSync(DOCS, { recursive: true });
  const screenshot = path.join(DOCS, `notebooks-${expected.name}.png`);
  writeFileAtomic(screenshot, await page.screenshot()); // docs/ figures: never left half-written
  return { name: expected.name, ...counts, screenshot, seconds: (performance.now() - start) / 1000 };
}

/**
 * The classic Notebook's path: the `text/html` fallback of the notebook's first chart, alone in a
 * page, draws the chart with the plotly.js its script loads (served from node_modules in place
 * of the CDN, which this machine cannot reach).
 */
async function checkHtmlFallback(browser: Browser, expected: Expected): Promise<void> {
  const nb = JSON.parse(fs.readFileSync(expected.file, 'utf8')) as { cells: Array<{ outputs?: Array<{ data?: Record<string, string | string[]> }> }> };
  const bundle = nb.cells.flatMap((c) => c.outputs ?? []).find((o) => o.data?.[PLOTLY_MIME] && o.data['text/html'])?.data;
  if (!bundle) throw new Error(`${expected.name} has no chart with an HTML fallback`);
  const html = ([] as string[]).concat(bundle['text/html']).join('');
  const page = await browser.newPage();
  try {
    await page.route(/^https:\/\/cdn\.plot\.ly\//, (route) =>
      route.fulfill({ path: require.resolve('plotly.js-dist-min'), contentType: 'application/javascript' }),
    );
    await page.setContent(`<!doctype html><html><head></head><body>${html}</body></html>`);
    await page.waitForSelector('.captcha-lab-plot svg.main-svg', { timeout: 30_000 }).catch(() => {
      throw new Error(`${expected.name}: the HTML fallback did not draw its chart with plotly.js`);
    });
  } finally {
    await page.close();
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => a !== '--docs');
  const names = only.length ? fs.readdirSync(EXECUTED).filter((f) => f.endsWith('.ipynb') && only.some((p) => f.startsWith(p))).map((f) => f.replace(/\.ipynb$/, '')) : DEFAULT_NOTEBOOKS;
  if (!fs.existsSync(EXECUTED) || names.length === 0) {
    throw new Error(`no executed notebooks${only.length ? ` matching ${only.join(', ')}` : ''} in ${path.relative(ROOT, EXECUTED)}/; run \`npm run test:notebooks\` first`);
  }
  const expected = names.map(expectedOutputs);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}; install Debian's chromium (npm run setup) or set CHROMIUM_PATH`);

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'captcha-lab-browser-'));
  let lab: JupyterLab | undefined;
  let browser: Browser | undefined;
  const stopAll = async () => {
    await browser?.close().catch(() => undefined);
    browser = undefined;
    await lab?.stop();
    lab = undefined;
    fs.rmSync(work, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`[browser] ${signal}: shutting JupyterLab down`);
    void stopAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = performance.now();
    lab = await JupyterLab.start(EXECUTED, work);
    console.log(`[browser] JupyterLab up on ${lab.url} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    const page = await browser.newPage({ viewport: { width: 1200, height: 1500 } });
    for (const e of expected) {
      const r = await checkNotebook(page, lab, e);
      console.log(`[browser] ${r.name}: ${r.charts} charts and ${r.images} images drawn (${r.seconds.toFixed(1)} s); screenshot ${path.relative(ROOT, r.screenshot)}`);
    }
    const withCharts = expected.find((e) => e.charts > 0);
    if (withCharts) {
      await checkHtmlFallback(browser, withCharts);
      console.log(`[browser] ${withCharts.name}: the text/html fallback (classic Notebook) draws its chart too`);
    }
    console.log(`[browser] ${expected.length}/${expected.length} notebooks passed`);
  } catch (err) {
    if (lab) console.error(`[browser] JupyterLab log (last lines):\n${lab.logTail()}`);
    throw err;
  } finally {
    await stopAll();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`[browser] FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
