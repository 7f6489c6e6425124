import { backend_util, getKernel, type KernelFunc, type MaxPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import { patchKernel } from './kernel-patches.js';
import { heapOf } from './wasm-heap.js';

const MAX_POOL_GRAD = 'MaxPoolGrad';

/**
 * Replaces tfjs-backend-wasm 4.22's MaxPoolGrad, which drops the gradient of every window whose
 * values are all negative (measured: it returns zeros where the cpu backend routes dy to the
 * window's largest value). This one routes each dy to the first largest value of its window, as
 * the cpu and WebGPU backends do, reading and writing the wasm heap in place (pooling gradients
 * are cheap next to the convolutions around them).
 */
export function useCorrectMaxPoolGrad(backendName: string): void {
  if (!getKernel(MAX_POOL_GRAD, backendName)) return;
  // A function per backend: the patch registry remembers each by what it replaced.
  patchKernel(backendName, MAX_POOL_GRAD, 'correct-max-pool-grad', () => (args) => correctMaxPoolGrad(args));
}

const correctMaxPoolGrad: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, input } = inputs as unknown as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const heap = heapOf(backend);
  const dx = heap.makeOutput(input.shape, 'float32');
  // Views after makeOutput: growing the heap would detach views taken before it.
  const x = heap.typedArrayFromHeap(input);
  const gradient = heap.typedArrayFromHeap(dy);
  const out = heap.typedArrayFromHeap(dx);
  out.fill(0);
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  // Channels innermost, as NHWC stores them: one pass over each window, all channels at once.
  const best = new Float32Array(channels);
  const at = new Int32Array(channels);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        best.fill(-Infinity);
        at.fill(-1);
        for (let i = 0; i < fh; i += dh) {
          const ih = oh * strideHeight - top + i;
          if (ih < 0 || ih >= inHeight) continue;
          for (let j = 0; j < fw; j += dw) {
            const iw = ow * strideWidth - left + j;
            if (iw < 0 || iw >= inWidth) continue;
            const base = ((n * inHeight + ih) * inWidth + iw) * channels;
            for (let c = 0; c < channels; c++) {
              const value = x[base + c]!;
              if (value > best[c]! || at[c]! < 0) {
                best[c] = value;
                at[c] = base + c;
              }
            }
          }
        }
        const outBase = ((n * outHeight + oh) * outWidth + ow) * channels;
        for (let c = 0; c < channels; c++) {
          const index = at[c]!;
          if (index >= 0) out[index] = out[index]! + gradient[outBase + c]!;
        }
      }
    }
  }
  return dx;
};
