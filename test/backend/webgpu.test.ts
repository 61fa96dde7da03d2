import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  activeWebGpuFastKernels,
  AUTOMATIC_ORDER,
  disableWebGpuFastKernels,
  enableWebGpuFastKernels,
  parseBackendKind,
  WEBGPU_FAST_KERNEL_NAMES,
} from '../../src/backend';
import { filterGradientStrategy, webGpuFilterGradient } from '../../src/backend/webgpu-kernels';
import { describeAdapter, formatAdapter, webGpuInstalled } from '../../src/backend/webgpu';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CHECK = path.join(ROOT, 'dist', 'scripts', 'webgpu-check.js');

/** Runs scripts/webgpu-check.js in its own process (a backend choice is for the whole process). */
function runCheck(args: string[], env: Record<string, string> = {}): { status: number | null; out: string } {
  const res = spawnSync(process.execPath, [CHECK, ...args, '--software'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { status: res.status, out: `${res.stdout}\n${res.stderr}` };
}

/** Whether this machine can run WebGPU on a software adapter (the `webgpu` package plus Mesa's llvmpipe). */
function softwareWebGpuAvailable(): { ok: boolean; why: string } {
  if (!webGpuInstalled()) return { ok: false, why: "the 'webgpu' package is not installed (bash scripts/setup.sh --test)" };
  const res = spawnSync(
    process.execPath,
    ['-e', `require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'backend', 'webgpu.js'))}).probeWebGpuAdapter().then(a => { console.log(JSON.stringify(a)); process.exit(0); }, e => { console.log(e.message); process.exit(1); })`],
    { encoding: 'utf8', timeout: 30_000 },
  );
  return { ok: res.status === 0, why: (res.stdout || res.stderr).trim().split('\n').pop() ?? '' };
}

describe('webgpu backend', () => {
  it('tells a software adapter from a GPU', () => {
    const llvmpipe = describeAdapter({ info: { vendor: 'mesa', architecture: 'software', device: 'llvmpipe-llvm-15', description: 'llvmpipe: Mesa 25.0.7' } });
    assert.equal(llvmpipe.software, true);
    assert.equal(formatAdapter(llvmpipe), 'mesa llvmpipe-llvm-15 (software)');
    assert.equal(describeAdapter({ info: { vendor: 'google', device: 'SwiftShader Device' } }).software, true);
    assert.equal(describeAdapter({ info: { vendor: 'x' }, isFallbackAdapter: true }).software, true);
    const h200 = describeAdapter({ info: { vendor: 'nvidia', architecture: 'hopper', device: 'nvidia-h200', description: 'NVIDIA H200' } });
    assert.equal(h200.software, false);
    assert.equal(formatAdapter(h200), 'nvidia nvidia-h200 (GPU)');
  });

  it('is never taken by the automatic choice, only when asked for', () => {
    assert.ok(!AUTOMATIC_ORDER.includes('webgpu'));
    assert.deepEqual(AUTOMATIC_ORDER, ['gpu', 'native', 'wasm', 'cpu']);
  });

  it('accepts webgpu as a backend name', () => {
    assert.equal(parseBackendKind('webgpu'), 'webgpu');
    assert.throws(() => parseBackendKind('webgl'), /not a backend.*webgpu/);
  });

  it('switches its fast kernels on and off, one by one', () => {
    try {
      assert.deepEqual(enableWebGpuFastKernels(), [...WEBGPU_FAST_KERNEL_NAMES]);
      assert.ok(tf.getKernel(tf.Conv2DBackpropFilter, 'webgpu'));
      assert.deepEqual(enableWebGpuFastKernels(), [...WEBGPU_FAST_KERNEL_NAMES], 'idempotent');
      assert.deepEqual(enableWebGpuFastKernels([]), []);
      assert.throws(() => enableWebGpuFastKernels(['reluGrad']), /not a webgpu fast kernel/);
    } finally {
      disableWebGpuFastKernels();
    }
    assert.deepEqual(activeWebGpuFastKernels(), []);
  });

  it('computes the filter gradient by layer size unless CAPTCHA_LAB_WEBGPU_FILTER_GRAD says otherwise', () => {
    const saved = process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD;
    try {
      delete process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD;
      assert.equal(webGpuFilterGradient(), 'by-size');
      process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD = 'forward-conv';
      assert.equal(webGpuFilterGradient(), 'forward-conv');
      process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD = 'per-image';
      assert.equal(webGpuFilterGradient(), 'per-image');
      process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD = 'by-size';
      assert.equal(webGpuFilterGradient(), 'by-size');
      process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD = 'im2col';
      assert.throws(() => webGpuFilterGradient(), /CAPTCHA_LAB_WEBGPU_FILTER_GRAD='im2col' is not one of forward-conv, per-image, by-size; unset it for by-size/);
    } finally {
      if (saved === undefined) delete process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD;
      else process.env.CAPTCHA_LAB_WEBGPU_FILTER_GRAD = saved;
    }
  });

  it('by-size computes the large first layers per image and the rest as a forward convolution', () => {
    // dy of the seed network's layers at 160x60, batch 64: [N, H', W', C]
    assert.equal(filterGradientStrategy('by-size', [64, 60, 160, 32]), 'per-image');
    assert.equal(filterGradientStrategy('by-size', [64, 30, 80, 64]), 'per-image', '2,400 pixels');
    assert.equal(filterGradientStrategy('by-size', [64, 15, 40, 128]), 'forward-conv', '600 pixels');
    assert.equal(filterGradientStrategy('by-size', [64, 32, 15, 40], false), 'forward-conv', 'NCHW reads H, W from axes 2, 3');
    assert.equal(filterGradientStrategy('by-size', [64, 32, 60, 160], false), 'per-image');
    assert.equal(filterGradientStrategy('per-image', [64, 1, 1, 8]), 'per-image', 'a fixed strategy is kept');
    assert.equal(filterGradientStrategy('forward-conv', [64, 60, 160, 32]), 'forward-conv');
  });

  it('loads nothing of the webgpu path unless it is chosen', () => {
    const script = `
      const b = require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'backend', 'index.js'))});
      b.selectBackend({ force: 'cpu', log: () => {} }).then(() => {
        const loaded = Object.keys(require.cache).filter((f) => /tfjs-backend-webgpu|dawn\\.node|[\\/]webgpu[\\/]/.test(f));
        console.log(JSON.stringify(loaded));
      });`;
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout.trim().split('\n').pop() as string), []);
  });

  describe('on a software adapter (Mesa llvmpipe: the real WGSL kernels on the CPU)', function () {
    this.timeout(180_000);
    before(function () {
      const { ok, why } = softwareWebGpuAvailable();
      if (!ok) {
        // CI installs Mesa's llvmpipe (setup.sh --test), so there a missing adapter is a failure.
        if (process.env.CI) throw new Error(`WebGPU on llvmpipe is unavailable in CI: ${why}`);
        console.log(`      (skipped: no software WebGPU adapter here: ${why})`);
        this.skip();
      }
    });

    it('refuses the software adapter unless asked for it', () => {
      const res = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(ROOT, 'dist', 'src', 'backend', 'index.js'))}).selectBackend({ force: 'webgpu', log: () => {} }).then(() => process.exit(0), (e) => { console.log(e.message); process.exit(3); })`], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, CAPTCHA_LAB_WEBGPU_SOFTWARE: '' },
      });
      assert.equal(res.status, 3);
      assert.match(res.stdout, /only a software adapter .*llvmpipe.*CAPTCHA_LAB_WEBGPU_SOFTWARE=1/s);
    });

    for (const [strategy, how] of [['forward-conv', 'as a forward convolution'], ['per-image', 'as one matrix product per image'], ['by-size', 'by layer size']] as const) {
      it(`computes the weight gradient ${how} to 1e-4 of the cpu backend and of its own kernel`, () => {
        const { status, out } = runCheck(['grad', '--shapes', 'tiny'], { CAPTCHA_LAB_WEBGPU_FILTER_GRAD: strategy });
        assert.match(out, new RegExp(`"filterGradient":"${strategy}"`), out);
        const rows = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
        const summary = rows.pop();
        assert.equal(rows.length, 5, out);
        for (const row of rows) {
          assert.ok(row.relErrFastVsCpu <= 1e-4, `${row.case}: ${row.relErrFastVsCpu}`);
          assert.ok(row.relErrFastVsPlain <= 1e-4, `${row.case}: ${row.relErrFastVsPlain}`);
        }
        assert.equal(summary.ok, true);
        assert.equal(status, 0, out);
      });
    }

    it('trains and predicts with asynchronous reads only, and counts dead units as cpu does', () => {
      const { status, out } = runCheck(['smoke']);
      const result = JSON.parse(out.split('\n').filter((l) => l.startsWith('{"losses"')).pop() ?? '{}');
      assert.equal(status, 0, out);
      assert.ok(result.losses[5] < result.losses[0], out);
      assert.equal(result.predicted.length, 6);
      // The plateau probe's count on webgpu: some units dead and some alive, the same ones as on cpu.
      const { webgpu, cpu, units } = result.deadUnits;
      assert.ok(cpu > 0 && cpu < units, `cpu: ${cpu} of ${units} dead`);
      assert.equal(webgpu, cpu, out);
    });
  });
});
