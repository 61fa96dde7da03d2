/**
 * Lazy access to node-canvas. Loading it is deferred to first use (importing the generator loads
 * nothing), and before fontconfig starts we ask for full TrueType hinting: Pillow renders glyphs
 * with FreeType's default (full) hinting, fontconfig's Debian default is "slight", and with slight
 * hinting the 50 and 56 px glyphs come out one pixel taller than Pillow's. With full hinting
 * node-canvas's coverage masks match Pillow's ink boxes exactly (mean |difference| 0.25/255).
 *
 * fontconfig reads its configuration once per process, at the first text operation, so the
 * setting is made when this module is first imported (it writes a 1 KB file to the temp folder
 * and sets FONTCONFIG_FILE): code that drew text with canvas before importing the generator
 * leaves the system's hinting in effect. A FONTCONFIG_FILE set by the user is left alone.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

type CanvasModule = typeof import('canvas');

let canvasModule: CanvasModule | null = null;

const FONTCONFIG = `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<!-- written by captcha-lab: the system configuration plus Pillow's glyph rendering (full hinting, grey antialiasing) -->
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <match target="font">
    <edit name="hinting" mode="assign"><bool>true</bool></edit>
    <edit name="hintstyle" mode="assign"><const>hintfull</const></edit>
    <edit name="autohint" mode="assign"><bool>false</bool></edit>
    <edit name="antialias" mode="assign"><bool>true</bool></edit>
    <edit name="rgba" mode="assign"><const>none</const></edit>
  </match>
</fontconfig>
`;

function useFullHinting(): void {
  if (process.env.FONTCONFIG_FILE) return;
  const file = path.join(os.tmpdir(), `captcha-lab-fonts-${typeof process.getuid === 'function' ? process.getuid() : 'user'}.conf`);
  try {
    if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== FONTCONFIG) {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, FONTCONFIG);
      fs.renameSync(tmp, file);
    }
    process.env.FONTCONFIG_FILE = file;
  } catch {
    // Without a writable temp folder glyphs keep the system hinting: slightly different, still usable.
  }
}

useFullHinting();

/**
 * node-canvas, loaded on first call. Call it on the main thread before starting workers that use
 * canvas: a worker that is the first to load the native module crashes the process when it exits.
 */
export function loadCanvas(): CanvasModule {
  if (!canvasModule) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    canvasModule = require('canvas') as CanvasModule;
  }
  return canvasModule;
}

type Canvas = ReturnType<CanvasModule['createCanvas']>;
const canvasesBySize = new Map<string, Canvas>();
/** Most canvas sizes kept at once (images of many sizes, e.g. predict on a folder, stay bounded). */
const MAX_CACHED_CANVASES = 8;

/**
 * A canvas of `width` x `height`, reused between calls: creating one per image is the slow part
 * of encoding and decoding. Callers draw and read it synchronously, so one canvas per size is
 * never shared mid-use (the encoder and the image decoder both use it).
 */
export function canvasOfSize(width: number, height: number): Canvas {
  const key = `${width}x${height}`;
  let canvas = canvasesBySize.get(key);
  if (!canvas) {
    canvas = loadCanvas().createCanvas(width, height);
    if (canvasesBySize.size >= MAX_CACHED_CANVASES) canvasesBySize.clear();
    canvasesBySize.set(key, canvas);
  }
  return canvas;
}
