/**
 * Training kernels built from a backend's own kernels ("composite kernels"), for backends whose
 * kernel for the job is missing or slow: tfjs-backend-wasm lacks the filter gradients and
 * `UnsortedSegmentSum` (src/backend/wasm-kernels.ts), and tfjs-backend-webgpu's
 * `Conv2DBackpropFilter` runs one thread per filter weight, ten times slower on a GPU than the
 * same gradient computed as a forward convolution (src/backend/webgpu-kernels.ts).
 *
 * Every kernel here calls the backend's registered kernel functions directly
 * (`tf.getKernel(name, backendName).kernelFunc`), not `tf.*` ops: nothing is recorded on the
 * gradient tape, `tf.profile` shows one kernel, and each intermediate buffer is freed before
 * the kernel returns. Each takes the name of the backend it runs on, because a kernel function
 * is not told which backend registered it.
 */
import * as tf from '@tensorflow/tfjs';

export type Info = tf.TensorInfo;
type Pair = [number, number];
type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** A kernel function's arguments, as the engine passes them. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: {};
  attrs?: tf.NamedAttrMap;
}

/**
 * Runs a backend's kernel functions and remembers every buffer they return, so that all
 * intermediates can be freed in one place. A wasm kernel's output always owns one reference
 * to its data (Reshape, for instance, shares the input's buffer but raises its count), so
 * `disposeData` once per output is exactly right.
 */
class KernelScratch {
  private readonly made: Info[] = [];

  constructor(
    private readonly backendName: string,
    private readonly backend: tf.KernelBackend,
  ) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (kernel == null) {
      throw new Error(
        `a composite kernel needs the ${this.backendName} kernel '${kernelName}', which is not registered: ` +
          `import the ${this.backendName} backend's package (version 4.22.0) before running the kernel.`,
      );
    }
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend }) as Info;
    this.made.push(out);
    return out;
  }

  /** Frees every intermediate except `result`, which the caller hands to the engine. */
  finish(result: Info): Info {
    if (!this.made.includes(result)) {
      // Handing an input's buffer back to the engine without a new reference would free it twice.
      throw new Error(`composite kernels on ${this.backendName}: internal error, a kernel must return a buffer it made.`);
    }
    for (const info of this.made) {
      if (info !== result) this.backend.disposeData(info.dataId);
    }
    this.made.length = 0;
    return result;
  }

  /** Frees everything; used when a kernel throws half-way. */
  abandon(): void {
    for (const info of this.made) this.backend.disposeData(info.dataId);
    this.made.length = 0;
  }
}

function withScratch(backendName: string, args: KernelArgs, body: (s: KernelScratch) => Info): Info {
  const scratch = new KernelScratch(backendName, args.backend as tf.KernelBackend);
  try {
    return scratch.finish(body(scratch));
  } catch (err) {
    scratch.abandon();
    throw err;
  }
}

function input(args: KernelArgs, kernelName: string, name: string): Info {
  const info = args.inputs[name];
  if (info == null) throw new Error(`${kernelName}: input '${name}' is missing.`);
  return info;
}

function isIdentityPerm(perm: number[]): boolean {
  return perm.every((p, i) => p === i);
}

function transpose(s: KernelScratch, x: Info, perm: number[]): Info {
  return isIdentityPerm(perm) ? x : s.run(tf.Transpose, { x }, { perm });
}

function reshape(s: KernelScratch, x: Info, shape: number[]): Info {
  const same = shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i]);
  return same ? x : s.run(tf.Reshape, { x }, { shape });
}

/**
 * Pads (positive amounts) and crops (negative amounts) each axis by [before, after], with
 * zeros. Crops only happen with unusual explicit paddings; the usual 'same'/'valid' cases
 * only pad.
 */
function padOrCrop(s: KernelScratch, x: Info, amounts: Pair[]): Info {
  let out = x;
  if (amounts.some(([b, a]) => b > 0 || a > 0)) {
    const paddings = amounts.map(([b, a]) => [Math.max(b, 0), Math.max(a, 0)]);
    out = s.run(tf.PadV2, { x: out }, { paddings, constantValue: 0 });
  }
  if (amounts.some(([b, a]) => b < 0 || a < 0)) {
    const begin = amounts.map(([b]) => Math.max(-b, 0));
    const size = amounts.map(([b, a], i) => x.shape[i] + b + a);
    out = s.run(tf.Slice, { x: out }, { begin, size });
  }
  return out;
}

/** Keeps the leading `size` entries of each axis. */
function cropTo(s: KernelScratch, x: Info, size: number[]): Info {
  const same = size.every((d, i) => d === x.shape[i]);
  return same ? x : s.run(tf.Slice, { x }, { begin: size.map(() => 0), size });
}

function pair(v: number | number[]): Pair {
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

function assertUnitDilations(kernelName: string, backendName: string, dilations: number | number[] | undefined): void {
  const [dh, dw] = pair(dilations ?? 1);
  if (dh !== 1 || dw !== 1) {
    // TensorFlow.js' own gradients never ask for this (they assert dilations of 1), and the
    // cpu kernels silently ignore dilations, so there is no reference to check it against.
    throw new Error(
      `${kernelName} on ${backendName} supports dilations of 1 only, got [${dh}, ${dw}]; ` +
        `use dilations [1, 1] when training, or the 'cpu' backend.`,
    );
  }
}

/** The attributes of a convolution's gradient kernels that fix its geometry. */
type ConvGeometry = Pick<tf.Conv2DBackpropFilterAttrs, 'strides' | 'pad' | 'dimRoundingMode'>;

/**
 * The forward convolution's geometry (`computeConv2DInfo`) for one of its gradient kernels, with
 * dilations of 1 (the depthwise kernels assert them; the conv2d ones, like the cpu backend's,
 * ignore them). `dataFormat` only for conv2d; depthwise kernels are NHWC.
 */
function convGeometry(
  inShape: number[],
  filterShape: number[],
  attrs: ConvGeometry,
  kind: { depthwise: true } | { depthwise: false; dataFormat: 'NHWC' | 'NCHW' },
): ConvInfo {
  return tf.backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    kind.depthwise,
    kind.depthwise ? 'channelsLast' : tf.backend_util.convertConv2DDataFormat(kind.dataFormat),
  );
}

/** The inputs and forward geometry both conv2d filter-gradient kernels start from. */
function filterGradientInputs(args: KernelArgs) {
  const x = input(args, tf.Conv2DBackpropFilter, 'x');
  const dy = input(args, tf.Conv2DBackpropFilter, 'dy');
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const dataFormat = attrs.dataFormat ?? 'NHWC';
  const convInfo = convGeometry(x.shape, attrs.filterShape, attrs, { depthwise: false, dataFormat });
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = convInfo;
  const { top, left } = convInfo.padInfo;
  return { x, dy, sh, sw, kh, kw, top, left, channelsLast: dataFormat === 'NHWC' };
}

/**
 * The conv2d filter gradient, dW[kh,kw,c,co] = sum_{n,i,j} xPadded[n, i*sh+kh, j*sw+kw, c] *
 * dy[n,i,j,co], is itself a convolution: with x as a batch of C images of N channels
 * ([C,Hp,Wp,N]) and dy as a filter of size H'xW' from N to Co channels ([H',W',N,Co]),
 * a stride-1 'valid' conv whose dilation is the forward stride gives [C, >=KH, >=KW, Co].
 * (Reshaping to Conv3DBackpropFilterV2 instead is wrong for strides > 1.)
 */
export function conv2DBackpropFilter(args: KernelArgs, backendName: string): Info {
  const { x, dy, sh, sw, kh, kw, top, left, channelsLast } = filterGradientInputs(args);
  return withScratch(backendName, args, (s) => {
    // 1. x -> [C, H, W, N]; dy -> [H', W', N, Co].
    const xT = transpose(s, x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    const dyT = transpose(s, dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    const [c, h, w] = xT.shape;
    const [outH, outW, , co] = dyT.shape;
    // 2. Pad so that the last output row/column still sees a full kernel window; rows past
    //    that are never read, so only the leading `top`/`left` padding must match the forward
    //    pass exactly.
    const needH = (outH - 1) * sh + kh;
    const needW = (outW - 1) * sw + kw;
    const xP = padOrCrop(s, xT, [
      [0, 0],
      [top, needH - top - h],
      [left, needW - left - w],
      [0, 0],
    ]);
    // 3. The convolution itself, then crop the window to [C, KH, KW, Co].
    const conv = s.run(
      tf.Conv2D,
      { x: xP, filter: dyT },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [sh, sw] },
    );
    const cropped = cropTo(s, conv, [c, kh, kw, co]);
    // 4. [C, KH, KW, Co] -> [KH, KW, C, Co].
    return transpose(s, cropped, [1, 2, 0, 3]);
  });
}

/**
 * The same conv2d filter gradient split by image, for when few outputs share a huge sum (a
 * network's first layers: dW has KH*KW*C*Co = 864 entries, each a sum over N*H'*W' = 870,000
 * products at batch 64): image n's patches as rows ([H'*W', KH*KW*C], the windows of x that
 * each output pixel saw) times its dy ([H'*W', Co]) is its share of dW, so one batched matrix
 * product over the N images, [N, KH*KW*C, Co], summed over N, is the gradient, with N times
 * more independent work than the single product of `conv2DBackpropFilter`.
 *
 * The patches are KH*KW times x's size; `maxPatchBytes` caps them by taking the images in groups
 * whose gradients are added: WebGPU refuses a buffer over its binding limit (2 GiB on an H200)
 * without failing the step, so one too large would leave the gradient silently wrong.
 */
export function conv2DBackpropFilterPerImage(args: KernelArgs, backendName: string, maxPatchBytes = Infinity): Info {
  const { x, dy, sh, sw, kh, kw, top, left, channelsLast } = filterGradientInputs(args);
  return withScratch(backendName, args, (s) => {
    // 1. Both channels-last: x [N, H, W, C], dy [N, H', W', Co].
    const xN = transpose(s, x, channelsLast ? [0, 1, 2, 3] : [0, 2, 3, 1]);
    const dyN = transpose(s, dy, channelsLast ? [0, 1, 2, 3] : [0, 2, 3, 1]);
    const [n, h, w, c] = xN.shape;
    const [, outH, outW, co] = dyN.shape;
    // 2. Padded as the forward pass saw it (see conv2DBackpropFilter).
    const needH = (outH - 1) * sh + kh;
    const needW = (outW - 1) * sw + kw;
    const xP = padOrCrop(s, xN, [
      [0, 0],
      [top, needH - top - h],
      [left, needW - left - w],
      [0, 0],
    ]);
    const perImageBytes = outH * outW * kh * kw * c * 4;
    if (perImageBytes > maxPatchBytes) {
      throw new Error(
        `conv2d filter gradient per image: one image's patches take ${perImageBytes} bytes, more than the ${maxPatchBytes} allowed ` +
          `(the backend's binding limit); set CAPTCHA_LAB_WEBGPU_FILTER_GRAD=forward-conv for this network`,
      );
    }
    const group = Math.min(n, Math.floor(maxPatchBytes / perImageBytes));
    let total: Info | undefined;
    for (let first = 0; first < n; first += group) {
      const g = Math.min(group, n - first);
      const xs = g === n ? xP : s.run(tf.Slice, { x: xP }, { begin: [first, 0, 0, 0], size: [g, needH, needW, c] });
      const dys = g === n ? dyN : s.run(tf.Slice, { x: dyN }, { begin: [first, 0, 0, 0], size: [g, outH, outW, co] });
      const part = filterGradientOfImages(s, xs, dys, { sh, sw, kh, kw });
      total = total === undefined ? part : s.run(tf.Add, { a: total, b: part });
    }
    return s.run(tf.Reshape, { x: total as Info }, { shape: [kh, kw, c, co] });
  });
}

/** `conv2DBackpropFilterPerImage` of images xP (padded, [G, Hp, Wp, C]) and their dy ([G, H', W', Co]): [KH*KW*C, Co]. */
function filterGradientOfImages(s: KernelScratch, xP: Info, dy: Info, k: { sh: number; sw: number; kh: number; kw: number }): Info {
  const [n, , , c] = xP.shape;
  const [, outH, outW, co] = dy.shape;
  const { sh, sw, kh, kw } = k;
  // The patches: one (strided) window of x per filter tap, side by side on the channel axis in
  // [KH, KW, C] order -> [G, H'*W', KH*KW*C].
  const taps: Info[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      taps.push(
        sh === 1 && sw === 1
          ? s.run(tf.Slice, { x: xP }, { begin: [0, i, j, 0], size: [n, outH, outW, c] })
          : s.run(tf.StridedSlice, { x: xP }, {
              begin: [0, i, j, 0], end: [n, i + (outH - 1) * sh + 1, j + (outW - 1) * sw + 1, c], strides: [1, sh, sw, 1],
              beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
            }),
      );
    }
  }
  const patches = taps.length === 1 ? taps[0] : s.run(tf.Concat, taps as unknown as tf.NamedTensorInfoMap, { axis: 3 });
  const a = reshape(s, patches, [n, outH * outW, kh * kw * c]);
  const b = reshape(s, dy, [n, outH * outW, co]);
  // Per image a^T b, summed over the images.
  const perImage = s.run(tf.BatchMatMul, { a, b }, { transposeA: true, transposeB: false });
  return s.run(tf.Sum, { x: perImage }, { axis: [0], keepDims: false });
}

/**
 * The depthwise filter gradient, dW[kh,kw,c,m] = sum_{n,i,j} xPadded[n, i*sh+kh, j*sw+kw, c] *
 * dy[n,i,j,c*M+m], as one depthwise convolution: x becomes a single image with C*N channels
 * ([1,Hp,Wp,C*N]), dy a depthwise filter of size H'xW' with multiplier M ([H',W',C*N,M]);
 * the result [1, >=KH, >=KW, C*N*M] is cropped and summed over N.
 */
export function depthwiseConv2dNativeBackpropFilter(args: KernelArgs, backendName: string): Info {
  const x = input(args, tf.DepthwiseConv2dNativeBackpropFilter, 'x');
  const dy = input(args, tf.DepthwiseConv2dNativeBackpropFilter, 'dy');
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  assertUnitDilations(tf.DepthwiseConv2dNativeBackpropFilter, backendName, attrs.dilations);
  const convInfo = convGeometry(x.shape, attrs.filterShape, attrs, { depthwise: true });
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = convInfo;
  const { top, left } = convInfo.padInfo;
  const [n, h, w, c] = x.shape;
  const [, outH, outW] = dy.shape;
  const m = attrs.filterShape[3];
  return withScratch(backendName, args, (s) => {
    // 1. x -> [H, W, C, N] -> padded -> [1, Hp, Wp, C*N] (channel index c*N + n).
    const xT = transpose(s, x, [1, 2, 3, 0]);
    const needH = (outH - 1) * sh + kh;
    const needW = (outW - 1) * sw + kw;
    const xP = padOrCrop(s, xT, [
      [top, needH - top - h],
      [left, needW - left - w],
      [0, 0],
      [0, 0],
    ]);
    const xImage = reshape(s, xP, [1, needH, needW, c * n]);
    // 2. dy [N, H', W', C*M] -> [H', W', C, N, M] -> [H', W', C*N, M].
    const dy5 = reshape(s, dy, [n, outH, outW, c, m]);
    const dyT = transpose(s, dy5, [1, 2, 3, 0, 4]);
    const filter = reshape(s, dyT, [outH, outW, c * n, m]);
    // 3. Depthwise conv with the forward strides as dilations, crop, sum over the batch.
    const conv = s.run(
      tf.DepthwiseConv2dNative,
      { x: xImage, filter },
      { strides: [1, 1], pad: 'valid', dilations: [sh, sw], dataFormat: 'NHWC' },
    );
    const cropped = cropTo(s, conv, [1, kh, kw, c * n * m]);
    const perBatch = reshape(s, cropped, [kh, kw, c, n, m]);
    return s.run(tf.Sum, { x: perBatch }, { axis: [3], keepDims: false });
  });
}

/**
 * The first half of a transposed convolution (an input gradient): dy [N,H',W',D] spread out by
 * the stride (zeros between rows and columns) and padded by KH-1-top / KW-1-left, so that a
 * stride-1 'valid' convolution with the filter rotated by 180 degrees gives [N,H,W,...].
 */
function spreadAndPad(
  s: KernelScratch,
  dy: Info,
  convInfo: ConvInfo,
  inputHeight: number,
  inputWidth: number,
): Info {
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = convInfo;
  const [n, outH, outW, d] = dy.shape;
  // 1. Zero-insertion: [N,H',1,W',1,D] padded to [N,H',sh,W',sw,D] is dy spread out by the
  //    stride, plus sh-1 / sw-1 trailing zeros that step 2 keeps or crops as needed.
  let spread = dy;
  if (sh > 1 || sw > 1) {
    const dy6 = reshape(s, dy, [n, outH, 1, outW, 1, d]);
    const padded = padOrCrop(s, dy6, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    spread = reshape(s, padded, [n, outH * sh, outW * sw, d]);
  }
  // 2. H + KH - 1 rows and W + KW - 1 columns in all.
  const padTop = kh - 1 - convInfo.padInfo.top;
  const padLeft = kw - 1 - convInfo.padInfo.left;
  return padOrCrop(s, spread, [
    [0, 0],
    [padTop, inputHeight + kh - 1 - padTop - outH * sh],
    [padLeft, inputWidth + kw - 1 - padLeft - outW * sw],
    [0, 0],
  ]);
}

/**
 * The depthwise input gradient as a transposed depthwise convolution: spread and pad dy, run a
 * stride-1 depthwise conv with the rotated filter ([KH,KW,C*M,1]), and sum the M channels
 * that came from each input channel.
 */
export function depthwiseConv2dNativeBackpropInput(args: KernelArgs, backendName: string): Info {
  const dy = input(args, tf.DepthwiseConv2dNativeBackpropInput, 'dy');
  const filter = input(args, tf.DepthwiseConv2dNativeBackpropInput, 'filter');
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  assertUnitDilations(tf.DepthwiseConv2dNativeBackpropInput, backendName, attrs.dilations);
  const convInfo = convGeometry(attrs.inputShape, filter.shape, attrs, { depthwise: true });
  const [n, h, w, c] = attrs.inputShape;
  const [kh, kw, , m] = filter.shape;
  return withScratch(backendName, args, (s) => {
    const dyP = spreadAndPad(s, dy, convInfo, h, w);
    const rotated = s.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
    const rotatedFlat = reshape(s, rotated, [kh, kw, c * m, 1]);
    const conv = s.run(
      tf.DepthwiseConv2dNative,
      { x: dyP, filter: rotatedFlat },
      { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC' },
    );
    if (m === 1) return conv;
    const perMultiplier = reshape(s, conv, [n, h, w, c, m]);
    return s.run(tf.Sum, { x: perMultiplier }, { axis: [4], keepDims: false });
  });
}

/**
 * Replaces the wasm backend's own Conv2DBackpropInput, which is correct but a plain loop
 * (60% of a training step of the `seed` network, see docs/notes/wasm.md): the same transposed
 * convolution as above, with the filter rotated and its channel axes swapped ([KH,KW,Co,C]),
 * runs on XNNPACK's Conv2D.
 */
export function conv2DBackpropInput(args: KernelArgs, backendName: string): Info {
  const dy = input(args, tf.Conv2DBackpropInput, 'dy');
  const filter = input(args, tf.Conv2DBackpropInput, 'filter');
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const dataFormat = attrs.dataFormat ?? 'NHWC';
  const channelsLast = dataFormat === 'NHWC';
  const convInfo = convGeometry(attrs.inputShape, filter.shape, attrs, { depthwise: false, dataFormat });
  return withScratch(backendName, args, (s) => {
    const dyNhwc = transpose(s, dy, channelsLast ? [0, 1, 2, 3] : [0, 2, 3, 1]);
    const dyP = spreadAndPad(s, dyNhwc, convInfo, convInfo.inHeight, convInfo.inWidth);
    const rotated = s.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
    const rotatedT = transpose(s, rotated, [0, 1, 3, 2]);
    const conv = s.run(
      tf.Conv2D,
      { x: dyP, filter: rotatedT },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
    );
    return transpose(s, conv, channelsLast ? [0, 1, 2, 3] : [0, 3, 1, 2]);
  });
}

/**
 * out[k, ...] = sum over i with segmentIds[i] == k of x[i, ...], through the wasm ScatterNd
 * kernel (which adds updates that share an index). Ids outside [0, numSegments) are dropped,
 * as the cpu backend does: their rows are zeroed and sent to segment 0. int32 inputs stay int32.
 */
export function unsortedSegmentSum(args: KernelArgs, backendName: string): Info {
  const x = input(args, tf.UnsortedSegmentSum, 'x');
  const segmentIds = input(args, tf.UnsortedSegmentSum, 'segmentIds');
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const idsSize = segmentIds.shape.reduce((a, b) => a * b, 1);
  const rest = x.shape.slice(segmentIds.shape.length);
  const outShape = [numSegments, ...rest];
  return withScratch(backendName, args, (s) => {
    if (idsSize === 0) {
      return s.run(tf.Fill, {}, { shape: outShape, value: 0, dtype: x.dtype });
    }
    const ids = reshape(s, segmentIds, [idsSize]);
    const zero = s.run(tf.Fill, {}, { shape: [], value: 0, dtype: 'int32' });
    const limit = s.run(tf.Fill, {}, { shape: [], value: numSegments, dtype: 'int32' });
    const valid = s.run(
      tf.LogicalAnd,
      {
        a: s.run(tf.GreaterEqual, { a: ids, b: zero }),
        b: s.run(tf.Less, { a: ids, b: limit }),
      },
    );
    const validIds = s.run(tf.Multiply, {
      a: ids,
      b: s.run(tf.Cast, { x: valid }, { dtype: 'int32' }),
    });
    const indices = reshape(s, validIds, [idsSize, 1]);
    const rows = reshape(s, x, [idsSize, ...rest]);
    const validRows = reshape(s, s.run(tf.Cast, { x: valid }, { dtype: x.dtype }), [
      idsSize,
      ...rest.map(() => 1),
    ]);
    const updates = s.run(tf.Multiply, { a: rows, b: validRows });
    return s.run(tf.ScatterNd, { indices, updates }, { shape: outShape });
  });
}
