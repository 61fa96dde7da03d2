/** One training step's kernels as tf.profile times them (GPU timestamps on webgpu), summed by kernel name. */
import * as tf from '@tensorflow/tfjs';

export interface KernelProfile {
  /** Kernel time, all kernels together (ms). */
  totalMs: number;
  /** Kernels launched. */
  kernels: number;
  /** Wall time of the profiled step (ms; profiling slows it). */
  wallMs: number;
  /** Per kernel name, slowest first. */
  ops: Array<{ op: string; ms: number; calls: number }>;
}

export async function profileKernels(step: () => Promise<unknown>): Promise<KernelProfile> {
  const wall0 = performance.now();
  const info = await tf.profile(async () => {
    await step();
  });
  const wallMs = performance.now() - wall0;
  const totals = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = totals.get(k.name) ?? { ms: 0, calls: 0 };
    totals.set(k.name, { ms: e.ms + ms, calls: e.calls + 1 });
  }
  const ops = [...totals].map(([op, t]) => ({ op, ...t })).sort((a, b) => b.ms - a.ms);
  return { totalMs: ops.reduce((sum, x) => sum + x.ms, 0), kernels: info.kernels.length, wallMs, ops };
}

/** The profile's header line (after `label`) and its `top` slowest kernels, one line each. */
export function formatKernelProfile(label: string, p: KernelProfile, top = 14): string[] {
  return [
    `  profile ${label}: ${p.totalMs.toFixed(0)} ms of kernel time in ${p.kernels} kernels, ${p.wallMs.toFixed(0)} ms wall (profiled); top:`,
    ...p.ops.slice(0, top).map((x) => `    ${x.op.padEnd(38)} ${x.ms.toFixed(1).padStart(8)} ms ${String(x.calls).padStart(4)}x`),
  ];
}
