import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { patchKernel } from '../kernel-patches.js';
import type { Dnnl } from '@rxvision/dnnl-linux-x64';
import { nativeOr } from './onednn.js';
import { convGeometry } from './onednn-convolutions.js';
import { heapOf } from '../wasm-heap.js';

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Hands `backendName`'s MaxPool, MaxPoolGrad and AvgPool (a wasm-heap backend, or cpu's arrays: `heapOf`) to oneDNN, in place
 * in the heap. MaxPoolGrad was the small CNN's slowest kernel (38 of its 88 ms step, in the
 * JavaScript that routes the gradient correctly where wasm's own did not). AvgPoolGrad stays the
 * backend's: tfjs divides the gradient by the whole window even where 'same' padding leaves part
 * of it outside the image (its forward divides by the pixels inside), and every backend agrees
 * with tfjs's cpu; oneDNN's true gradient would not. Anything oneDNN cannot take (other dtypes,
 * negative padding) goes to the kernel registered before.
 */
export function useOneDnnPooling(backendName: string, dnnl: Dnnl): void {
  patchKernel(backendName, 'MaxPool', 'onednn', (original) => pool(dnnl, true, original!));
  patchKernel(backendName, 'AvgPool', 'onednn', (original) => pool(dnnl, false, original!));
  patchKernel(backendName, 'MaxPoolGrad', 'onednn', (original) => maxPoolGradient(dnnl, original!));
}

function poolInfo(xShape: number[], attrs: PoolAttrs): backend_util.Conv2DInfo {
  return backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

function pool(dnnl: Dnnl, max: boolean, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    if (x.dtype !== 'float32' || x.shape.length !== 4) return fallback(args);
    const info = poolInfo(x.shape, args.attrs as unknown as PoolAttrs);
    const geometry = convGeometry(info);
    if (!geometry) return fallback(args);
    const heap = heapOf(args.backend);
    const y = heap.makeOutput([...info.outShape], 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    return nativeOr(
      heap,
      y,
      () => dnnl.pool2d({ geometry, max, x: heap.typedArrayFromHeap(x), y: heap.typedArrayFromHeap(y) }),
      () => fallback(args) as TensorInfo,
    );
  };
}

function maxPoolGradient(dnnl: Dnnl, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as unknown as { dy: TensorInfo; input: TensorInfo };
    if (dy.dtype !== 'float32' || input.dtype !== 'float32' || input.shape.length !== 4) return fallback(args);
    const info = poolInfo(input.shape, args.attrs as unknown as PoolAttrs);
    const geometry = convGeometry(info);
    if (!geometry) return fallback(args);
    const heap = heapOf(args.backend);
    const dx = heap.makeOutput([...input.shape], 'float32');
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    return nativeOr(
      heap,
      dx,
      () => dnnl.pool2dBackward({ geometry, max: true, x: view(input), dy: view(dy), dx: view(dx) }),
      () => fallback(args) as TensorInfo,
    );
  };
}
