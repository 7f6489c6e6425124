import {
  backend_util,
  type Conv2DAttrs,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type FusedConv2DAttrs,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { patchKernel } from '../kernel-patches.js';
import type { ConvGeometry, Dnnl } from '@rxvision/dnnl-linux-x64';
import { nativeOr } from './onednn.js';
import { computesInBfloat16 } from './onednn-precision.js';
import { heapOf } from '../wasm-heap.js';

/**
 * Hands `backendName`'s convolutions, forward and both gradients, to oneDNN (a wasm-heap backend, or cpu's arrays: `heapOf`):
 * the addon reads and writes the tensors in the wasm heap in place, NHWC activations and HWIO
 * filters as tfjs lays them out. On the ResNet of experiments/cifar10-cnn.json, two threads, the
 * convolutions took 38 / 42 / 40 ms (forward / input / filter gradient) against 124 / 251 / 246 for
 * the kernels replaced. Anything else (NCHW, other dtypes, activations but ReLU, negative padding,
 * what the addon answers it does not take) goes to the kernel registered before. Each pass computes
 * in bfloat16 while `setOneDnnPrecision` says so for `backendName`.
 */
export function useOneDnnConvolutions(backendName: string, dnnl: Dnnl): void {
  // Each has a kernel of wasm's (Conv2DBackpropFilter from registerConvGradientKernels) to fall back to.
  const bf16 = () => computesInBfloat16(backendName);
  patchKernel(backendName, 'Conv2D', 'onednn', (original) => forward(dnnl, bf16, original!));
  patchKernel(backendName, 'FusedConv2D', 'onednn', (original) => forward(dnnl, bf16, original!));
  patchKernel(backendName, 'Conv2DBackpropInput', 'onednn', (original) => backwardData(dnnl, bf16, original!));
  patchKernel(backendName, 'Conv2DBackpropFilter', 'onednn', (original) => backwardFilter(dnnl, bf16, original!));
}

/** The addon's geometry, or undefined where oneDNN cannot take the padding; pooling uses it too. */
export function convGeometry(info: backend_util.Conv2DInfo): ConvGeometry | undefined {
  const { top, bottom, left, right } = info.padInfo;
  if ([top, bottom, left, right].some((pad) => pad < 0)) return undefined;
  const { batchSize: batch, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth } = info;
  if ([batch, inHeight, inWidth, inChannels, outChannels, outHeight, outWidth].some((size) => size < 1)) return undefined;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  return {
    batch,
    inHeight,
    inWidth,
    inChannels,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
    padTop: top,
    padBottom: bottom,
    padLeft: left,
    padRight: right,
    outHeight,
    outWidth,
  };
}

const float = (...infos: (TensorInfo | undefined)[]) => infos.every((info) => info === undefined || info.dtype === 'float32');

function forward(dnnl: Dnnl, bf16: () => boolean, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, filter, bias, preluActivationWeights } = inputs as unknown as {
      x: TensorInfo;
      filter: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const {
      strides,
      pad,
      dataFormat,
      dilations,
      dimRoundingMode,
      activation = 'linear',
    } = attrs as unknown as Conv2DAttrs & Partial<FusedConv2DAttrs>;
    if (dataFormat !== 'NHWC' || !float(x, filter, bias) || preluActivationWeights || (activation !== 'linear' && activation !== 'relu'))
      return fallback(args);
    const channels = filter.shape[3]!;
    if (bias && (bias.shape.length !== 1 || bias.shape[0] !== channels)) return fallback(args);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
    );
    const geometry = convGeometry(info);
    if (!geometry) return fallback(args);
    const heap = heapOf(backend);
    const y = heap.makeOutput([...info.outShape], 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    return nativeOr(
      heap,
      y,
      () =>
        dnnl.conv2d({
          geometry,
          x: view(x),
          filter: view(filter),
          bias: bias ? view(bias) : null,
          y: view(y),
          relu: activation === 'relu',
          bf16: bf16(),
        }),
      () => fallback(args) as TensorInfo,
    );
  };
}

/** dx from dy and the filter: oneDNN's backward-data pass, which skips the stride's zeros itself. */
function backwardData(dnnl: Dnnl, bf16: () => boolean, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as unknown as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
    if (dataFormat !== 'NHWC' || !float(dy, filter)) return fallback(args);
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    const geometry = convGeometry(info);
    if (!geometry) return fallback(args);
    const heap = heapOf(backend);
    const dx = heap.makeOutput([...inputShape], 'float32');
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    return nativeOr(
      heap,
      dx,
      () => dnnl.conv2dBackwardData({ geometry, dy: view(dy), filter: view(filter), dx: view(dx), bf16: bf16() }),
      () => fallback(args) as TensorInfo,
    );
  };
}

function backwardFilter(dnnl: Dnnl, bf16: () => boolean, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
    if (dataFormat !== 'NHWC' || !float(x, dy)) return fallback(args);
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
    const geometry = convGeometry(info);
    if (!geometry) return fallback(args);
    const heap = heapOf(backend);
    const dw = heap.makeOutput([...filterShape], 'float32');
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    return nativeOr(
      heap,
      dw,
      () => dnnl.conv2dBackwardFilter({ geometry, x: view(x), dy: view(dy), dw: view(dw), bf16: bf16() }),
      () => fallback(args) as TensorInfo,
    );
  };
}
