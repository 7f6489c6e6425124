import { backend_util, type Conv2DBackpropFilterAttrs, getKernel, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { patchKernel } from '../kernel-patches.js';
import type { OnnxRuntime, OnnxSession } from './onnxruntime.js';
import { heapOf, Staging, writeBack } from '../wasm-heap.js';

const KERNEL = 'Conv2DBackpropFilter';

/**
 * Replaces `backendName`'s Conv2DBackpropFilter (a wasm-heap backend, or cpu's arrays: `heapOf`) with im2col and one
 * onnxruntime product: dW[(i,j,ci), co] = Σ_rows patches(x)[row, (i,j,ci)] · dy[row, co], rows
 * running over batch and output pixels. The XNNPACK convolution it replaces took 118 of the small
 * CNN's 244 ms step on two threads and barely used the second one: a reduction over 131,072 rows
 * into 27 outputs leaves a convolution engine nothing to split.
 */
export function useOnnxRuntimeConvFilterGradient(backendName: string, runtime: OnnxRuntime, threads: number): void {
  if (!getKernel(KERNEL, backendName)) return;
  patchKernel(backendName, KERNEL, 'onnxruntime-conv-filter', (original) => filterGradientKernel(runtime, threads, original!));
}

function filterGradientKernel(runtime: OnnxRuntime, threads: number, fallback: KernelFunc): KernelFunc {
  let session: OnnxSession | undefined;
  const staging = new Staging(); // the patches, and dy and dW where the heap is shared
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
    if (dataFormat !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return fallback(args);
    const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
    const [, , , channels] = filterShape;
    const rows = info.batchSize * info.outHeight * info.outWidth;
    const patch = info.filterHeight * info.filterWidth * info.inChannels;

    const heap = heapOf(backend);
    const dw = heap.makeOutput([...filterShape], 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    const [xView, dyView, dwView] = [x, dy, dw].map((t) => heap.typedArrayFromHeap(t)) as [Float32Array, Float32Array, Float32Array];
    const {
      own: [patches],
      operands: [dyData, out],
    } = staging.place([rows * patch], [dyView, dwView], 1) as { own: [Float32Array]; operands: [Float32Array, Float32Array] };
    im2col(xView, patches, info);
    session ??= runtime.session(
      {
        nodes: [{ op: 'Gemm', inputs: ['patches', 'dy'], outputs: ['dw'], attributes: { transA: 1 } }],
        inputs: [
          { name: 'patches', dims: ['rows', 'patch'] },
          { name: 'dy', dims: ['rows', 'channels'] },
        ],
        outputs: [{ name: 'dw', dims: ['patch', 'channels'] }],
      },
      threads,
    );
    session.run(
      { patches: { data: patches, dims: [rows, patch] }, dy: { data: dyData, dims: [rows, channels] } },
      { dw: { data: out, dims: [patch, channels] } },
    );
    writeBack([out], [dwView]);
    return dw;
  };
}

/** Each output pixel's receptive field as one row (i, j, channel), zeros where it leaves the image. */
function im2col(x: Float32Array, patches: Float32Array, info: backend_util.Conv2DInfo): void {
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels: channels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    filterHeight,
    filterWidth,
  } = info;
  const { top, left } = info.padInfo;
  let at = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let i = 0; i < filterHeight; i++) {
          const ih = oh * strideHeight - top + i;
          for (let j = 0; j < filterWidth; j++) {
            const iw = ow * strideWidth - left + j;
            if (ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth) {
              patches.fill(0, at, at + channels);
            } else {
              const from = ((n * inHeight + ih) * inWidth + iw) * channels;
              for (let c = 0; c < channels; c++) patches[at + c] = x[from + c]!;
            }
            at += channels;
          }
        }
      }
    }
  }
}
