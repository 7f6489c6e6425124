import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { patchKernel } from '../kernel-patches.js';
import type { Dnnl } from '@rxvision/dnnl-linux-x64';
import { heapOf } from '../wasm-heap.js';

/**
 * Batch normalisation's training step as two kernels, by the names and contract that
 * @rxvision/model's batchNormalization asks the backend for (it computes them from tfjs ops where
 * a backend has none): forward {x, scale, offset} → [y, mean, variance] over every axis but the
 * last (y rectified in the same pass where attrs.relu), and backward {dy, x, scale, mean, variance,
 * rectified?} → [dx, dscale, doffset] (dy counting where that rectified y is above 0); attrs {epsilon}.
 */
export const BATCH_NORM_KERNELS = { training: 'RxvisionBatchNormTraining', gradient: 'RxvisionBatchNormTrainingGrad' } as const;

/**
 * Registers those kernels for `backendName` (a wasm-heap backend, or cpu's arrays: `heapOf`) on oneDNN, which reads and writes
 * the heap in place. On the ResNet of experiments/cifar10-cnn.json the tfjs ops they replace
 * (means, sums, products and their gradients) took about 230 ms of the 398 ms step.
 */
export function useOneDnnBatchNorm(backendName: string, dnnl: Dnnl): void {
  patchKernel(backendName, BATCH_NORM_KERNELS.training, 'onednn', () => training(dnnl));
  patchKernel(backendName, BATCH_NORM_KERNELS.gradient, 'onednn', () => gradient(dnnl));
  patchKernel(backendName, 'FusedBatchNorm', 'onednn', (original) => inference(dnnl, original));
}

function shapeOf(x: TensorInfo, name: string): { rows: number; channels: number } {
  if (x.dtype !== 'float32' || x.shape.length < 2)
    throw new Error(`${name}: a float32 tensor of rank 2 or more is needed, got ${x.dtype} of rank ${x.shape.length}`);
  const channels = x.shape.at(-1)!;
  return { rows: x.shape.reduce((product, size) => product * size, 1) / channels, channels };
}

/**
 * tfjs's batchNorm (validation, test and prediction passes) where its statistics, scale and offset
 * are one value a channel: wasm's kernel ran it on one thread, about 40% of a CIFAR ResNet's
 * inference. Anything else (statistics of x's own shape, another dtype) goes to `original`.
 */
function inference(dnnl: Dnnl, original: KernelFunc | undefined): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, mean, variance, scale, offset } = inputs as unknown as Record<'x' | 'mean' | 'variance', TensorInfo> &
      Partial<Record<'scale' | 'offset', TensorInfo>>;
    const channels = x.shape.at(-1) ?? 0;
    const perChannel = (t: TensorInfo | undefined) =>
      !t || (t.dtype === 'float32' && t.shape.at(-1) === channels && t.shape.reduce((n, size) => n * size, 1) === channels);
    const elements = x.shape.reduce((n, size) => n * size, 1);
    if (x.dtype !== 'float32' || elements < 1 || ![mean, variance, scale, offset].every(perChannel)) {
      if (!original) throw new Error('FusedBatchNorm: no kernel for statistics other than one value a channel');
      return original(args);
    }
    const { varianceEpsilon: epsilon } = attrs as unknown as { varianceEpsilon: number };
    const heap = heapOf(backend);
    const output = heap.makeOutput([...x.shape], 'float32');
    const view = (info: TensorInfo | undefined) => (info ? heap.typedArrayFromHeap(info) : null);
    const rows = elements / channels;
    const [xs, ys] = [view(x)!, view(output)!];
    const statistics = { mean: view(mean)!, variance: view(variance)!, scale: view(scale), offset: view(offset) };
    dnnl.batchNormInference({ shape: { rows, channels, epsilon }, x: xs, y: ys, ...statistics });
    return output;
  };
}

function training(dnnl: Dnnl): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, scale, offset } = inputs as unknown as Record<'x' | 'scale' | 'offset', TensorInfo>;
    const { epsilon, relu = false } = attrs as unknown as { epsilon: number; relu?: boolean };
    const { rows, channels } = shapeOf(x, BATCH_NORM_KERNELS.training);
    const heap = heapOf(backend);
    const outputs = [
      heap.makeOutput([...x.shape], 'float32'),
      heap.makeOutput([channels], 'float32'),
      heap.makeOutput([channels], 'float32'),
    ];
    // Views after makeOutput: growing the heap would detach views taken before it.
    const [y, mean, variance] = outputs.map((info) => heap.typedArrayFromHeap(info)) as [Float32Array, Float32Array, Float32Array];
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    const shape = { rows, channels, epsilon };
    dnnl.batchNormTraining({ shape, x: view(x), scale: view(scale), offset: view(offset), y, mean, variance, relu });
    return outputs;
  };
}

function gradient(dnnl: Dnnl): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x, scale, mean, variance, rectified } = inputs as unknown as Record<
      'dy' | 'x' | 'scale' | 'mean' | 'variance',
      TensorInfo
    > & {
      rectified?: TensorInfo;
    };
    const { epsilon } = attrs as unknown as { epsilon: number };
    const { rows, channels } = shapeOf(x, BATCH_NORM_KERNELS.gradient);
    const heap = heapOf(backend);
    const outputs = [
      heap.makeOutput([...x.shape], 'float32'),
      heap.makeOutput([channels], 'float32'),
      heap.makeOutput([channels], 'float32'),
    ];
    const [dx, dscale, doffset] = outputs.map((info) => heap.typedArrayFromHeap(info)) as [Float32Array, Float32Array, Float32Array];
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    const shape = { rows, channels, epsilon };
    dnnl.batchNormTrainingGrad({
      shape,
      x: view(x),
      dy: view(dy),
      scale: view(scale),
      mean: view(mean),
      variance: view(variance),
      dx,
      dscale,
      doffset,
      rectified: rectified ? view(rectified) : null,
    });
    return outputs;
  };
}
