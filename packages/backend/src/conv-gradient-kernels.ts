// Over 250 lines: the four convolution gradients wasm lacks (filter and input, plain and depthwise)
// share their shape arithmetic and the backend's kernels they are written with.
import {
  backend_util,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  getKernel,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { patchedBy, patchKernel } from './kernel-patches.js';

/**
 * The convolution gradients that tfjs-backend-wasm 4.22 lacks (so CNNs did not train on it),
 * written with kernels the backend has, chiefly its XNNPACK Conv2D. Each step calls a kernel of
 * the same backend and disposes what it made, as a kernel must.
 */
export const GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
] as const;
const BACKPROP_INPUT = 'Conv2DBackpropInput' as const;
const XNNPACK_GRADIENTS = 'xnnpack-gradients';

/**
 * Registers, for `backendName`, each of `GRADIENT_KERNELS` it lacks, and replaces its
 * Conv2DBackpropInput with one XNNPACK convolution (wasm's own ran at about 3 GFLOP/s, half of a
 * small CNN's step). Returns the names registered.
 */
export function registerConvGradientKernels(backendName: string): string[] {
  const factories: Record<(typeof GRADIENT_KERNELS)[number] | typeof BACKPROP_INPUT, (k: Kernels) => KernelFunc> = {
    Conv2DBackpropFilter: conv2dBackpropFilter,
    Conv2DBackpropInput: conv2dBackpropInput,
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  };
  const registered: string[] = [];
  for (const name of [...GRADIENT_KERNELS, BACKPROP_INPUT]) {
    const existing = getKernel(name, backendName)?.kernelFunc as KernelFunc | undefined;
    // The gradients the backend has of its own stay; its slow backprop input is replaced.
    if (existing && name !== BACKPROP_INPUT && !patchedBy(existing, XNNPACK_GRADIENTS)) continue;
    if (patchKernel(backendName, name, XNNPACK_GRADIENTS, () => factories[name](kernels(backendName)))) registered.push(name);
  }
  return registered;
}

interface Kernels {
  run(name: string, backend: unknown, inputs: Record<string, TensorInfo>, attrs?: object): TensorInfo;
  dispose(backend: unknown, ...infos: TensorInfo[]): void;
}

/** Calls the backend's own kernels by name, resolved when called (so later patches apply). */
function kernels(backendName: string): Kernels {
  return {
    run(name, backend, inputs, attrs = {}) {
      const kernel = getKernel(name, backendName);
      if (!kernel) throw new Error(`backend ${backendName} has no ${name} kernel, which ${GRADIENT_KERNELS.join('/')} need`);
      return (kernel.kernelFunc as KernelFunc)({ inputs, backend: backend as never, attrs: attrs as NamedAttrMap }) as TensorInfo;
    },
    dispose(backend, ...infos) {
      for (const info of infos) (backend as { disposeData(dataId: object): void }).disposeData(info.dataId);
    },
  };
}

/**
 * dW[i,j,ci,co] = Σ x[n, ho·s+i−pad, wo·s+j−pad, ci] · dy[n,ho,wo,co]: a convolution in which the
 * input channels are the batch, the batch is the channels and dy is the filter, its stride now a
 * dilation. One XNNPACK call instead of a loop over the filter's taps (an im2col with one matMul
 * measured 745 ms against 188 for the small CNN's step: wasm's StridedSlice and Concat are slow).
 */
function conv2dBackpropFilter(k: Kernels): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
    if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter: only NHWC is supported here, got ${dataFormat}`);
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
    const { top, bottom, left, right } = info.padInfo;
    const channelsAsBatch = k.run('Transpose', backend, { x }, { perm: [3, 1, 2, 0] }); // [ci, h, w, n]
    const dyAsFilter = k.run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [ho, wo, n, co]
    const swapped = k.run(
      'Conv2D',
      backend,
      { x: channelsAsBatch, filter: dyAsFilter },
      {
        strides: [1, 1],
        dilations: [info.strideHeight, info.strideWidth],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    ); // [ci, ≥kh, ≥kw, co]: 'valid' with a stride can leave a row or column more
    k.dispose(backend, channelsAsBatch, dyAsFilter);
    const [kh, kw, ci, co] = filterShape;
    let cropped = swapped;
    if (swapped.shape[1] !== kh || swapped.shape[2] !== kw) {
      cropped = k.run('Slice', backend, { x: swapped }, { begin: [0, 0, 0, 0], size: [ci, kh, kw, co] });
      k.dispose(backend, swapped);
    }
    const dw = k.run('Transpose', backend, { x: cropped }, { perm: [1, 2, 0, 3] });
    k.dispose(backend, cropped);
    return dw;
  };
}

/**
 * dx = dy, spread to the stride (zeros between), correlated with the filter turned by 180° and
 * its channels swapped: the transposed convolution as one XNNPACK call.
 */
function conv2dBackpropInput(k: Kernels): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
    if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropInput: only NHWC is supported here, got ${dataFormat}`);
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const [n, h, w] = inputShape;
    const [kh, kw] = filter.shape as [number, number, number, number];
    const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw, outChannels: co } = info;
    let spread = dy;
    if (sh > 1 || sw > 1) {
      const spaced = k.run('Reshape', backend, { x: dy }, { shape: [n, ho, 1, wo, 1, co] });
      const padded = k.run(
        'PadV2',
        backend,
        { x: spaced },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      const strided = k.run('Reshape', backend, { x: padded }, { shape: [n, ho * sh, wo * sw, co] });
      spread = k.run('Slice', backend, { x: strided }, { begin: [0, 0, 0, 0], size: [n, (ho - 1) * sh + 1, (wo - 1) * sw + 1, co] });
      k.dispose(backend, spaced, padded, strided);
    }
    const turned = k.run('Reverse', backend, { x: filter }, { dims: [0, 1] });
    const swapped = k.run('Transpose', backend, { x: turned }, { perm: [0, 1, 3, 2] }); // [kh, kw, co, ci]
    k.dispose(backend, turned);
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = h + kh - 1 - top - spread.shape[1]!;
    const right = w + kw - 1 - left - spread.shape[2]!;
    const dx = k.run(
      'Conv2D',
      backend,
      { x: spread, filter: swapped },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
    k.dispose(backend, swapped);
    if (spread !== dy) k.dispose(backend, spread);
    return dx;
  };
}

/** What both depthwise gradients share: the geometry and, per filter tap, where it reads x. */
function depthwiseGeometry(
  xShape: number[],
  filterShape: [number, number, number, number],
  attrs: DepthwiseConv2dNativeBackpropFilterAttrs | DepthwiseConv2dNativeBackpropInputAttrs,
) {
  const { strides, dilations, pad, dimRoundingMode } = attrs;
  const info = backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape,
    strides,
    dilations,
    pad,
    dimRoundingMode,
    true,
  );
  const [kh, kw, channels, multiplier] = filterShape;
  const taps: Array<{ i: number; j: number; row: number; col: number }> = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) taps.push({ i, j, row: i * info.dilationHeight, col: j * info.dilationWidth });
  }
  return { info, kh, kw, channels, multiplier, taps };
}

/** dW[i,j,c,m] = Σ x[n, ho·s+i·d−pad, wo·s+j·d−pad, c] · dy[n,ho,wo,c·M+m], tap by tap. */
function depthwiseBackpropFilter(k: Kernels): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
    const typed = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    const { info, kh, kw, channels, multiplier, taps } = depthwiseGeometry(x.shape, typed.filterShape, typed);
    const n = x.shape[0]!;
    const { top, bottom, left, right } = info.padInfo;
    const padded = k.run(
      'PadV2',
      backend,
      { x },
      {
        paddings: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    const dyPerMultiplier = k.run('Reshape', backend, { x: dy }, { shape: [n, info.outHeight, info.outWidth, channels, multiplier] });
    const perTap = taps.map(({ row, col }) => {
      const window = k.run(
        'StridedSlice',
        backend,
        { x: padded },
        {
          begin: [0, row, col, 0],
          end: [n, row + (info.outHeight - 1) * info.strideHeight + 1, col + (info.outWidth - 1) * info.strideWidth + 1, channels],
          strides: [1, info.strideHeight, info.strideWidth, 1],
          beginMask: 0,
          endMask: 0,
          ellipsisMask: 0,
          newAxisMask: 0,
          shrinkAxisMask: 0,
        },
      ); // [n, ho, wo, c]
      const column = k.run('Reshape', backend, { x: window }, { shape: [n, info.outHeight, info.outWidth, channels, 1] });
      const product = k.run('Multiply', backend, { a: column, b: dyPerMultiplier });
      const sum = k.run('Sum', backend, { x: product }, { axis: [0, 1, 2], keepDims: false }); // [c, m]
      k.dispose(backend, window, column, product);
      return sum;
    });
    k.dispose(backend, padded, dyPerMultiplier);
    const stacked = k.run('Pack', backend, perTap as unknown as Record<string, TensorInfo>, { axis: 0 }); // [kh·kw, c, m]: Pack takes an array
    k.dispose(backend, ...perTap);
    const dw = k.run('Reshape', backend, { x: stacked }, { shape: [kh, kw, channels, multiplier] });
    k.dispose(backend, stacked);
    return dw;
  };
}

/**
 * dx[n, ho·s+i·d−pad, wo·s+j·d−pad, c] += Σ_m dy[n,ho,wo,c·M+m] · W[i,j,c,m], tap by tap: each
 * tap's contribution is spread to the stride (reshape + pad), shifted into place and added.
 */
function depthwiseBackpropInput(k: Kernels): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
    const typed = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    const { info, channels, multiplier, taps } = depthwiseGeometry(
      typed.inputShape,
      filter.shape as [number, number, number, number],
      typed,
    );
    const [n, h, w] = typed.inputShape;
    const { outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw } = info;
    const { top, left } = info.padInfo;
    // The accumulator covers every position a tap can reach, padding included.
    const accHeight = (ho - 1) * sh + taps.at(-1)!.row + 1;
    const accWidth = (wo - 1) * sw + taps.at(-1)!.col + 1;
    const dyPerMultiplier = k.run('Reshape', backend, { x: dy }, { shape: [n, ho, wo, channels, multiplier] });
    const filterTaps = k.run('Reshape', backend, { x: filter }, { shape: [taps.length, channels, multiplier] });
    let acc: TensorInfo | undefined;
    taps.forEach(({ row, col }, t) => {
      const weights = k.run('Slice', backend, { x: filterTaps }, { begin: [t, 0, 0], size: [1, channels, multiplier] });
      const product = k.run('Multiply', backend, { a: dyPerMultiplier, b: weights }); // [n, ho, wo, c, m]
      const contribution = k.run('Sum', backend, { x: product }, { axis: [4], keepDims: false }); // [n, ho, wo, c]
      const spaced = k.run('Reshape', backend, { x: contribution }, { shape: [n, ho, 1, wo, 1, channels] });
      const spread = k.run(
        'PadV2',
        backend,
        { x: spaced },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      const strided = k.run('Reshape', backend, { x: spread }, { shape: [n, ho * sh, wo * sw, channels] });
      const placed = k.run(
        'PadV2',
        backend,
        { x: strided },
        {
          paddings: [
            [0, 0],
            [row, Math.max(0, accHeight - row - ho * sh)],
            [col, Math.max(0, accWidth - col - wo * sw)],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      const fitted = k.run('Slice', backend, { x: placed }, { begin: [0, 0, 0, 0], size: [n, accHeight, accWidth, channels] });
      k.dispose(backend, weights, product, contribution, spaced, spread, strided, placed);
      if (acc === undefined) {
        acc = fitted;
      } else {
        const sum = k.run('Add', backend, { a: acc, b: fitted });
        k.dispose(backend, acc, fitted);
        acc = sum;
      }
    });
    k.dispose(backend, dyPerMultiplier, filterTaps);
    // Crop the padding away (and any rows the input never had), then pad if the input was longer.
    const keepHeight = Math.min(h, accHeight - top);
    const keepWidth = Math.min(w, accWidth - left);
    const cropped = k.run('Slice', backend, { x: acc! }, { begin: [0, top, left, 0], size: [n, keepHeight, keepWidth, channels] });
    k.dispose(backend, acc!);
    if (keepHeight === h && keepWidth === w) return cropped;
    const dx = k.run(
      'PadV2',
      backend,
      { x: cropped },
      {
        paddings: [
          [0, 0],
          [0, h - keepHeight],
          [0, w - keepWidth],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    k.dispose(backend, cropped);
    return dx;
  };
}
