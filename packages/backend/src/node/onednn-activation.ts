import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { ActivationName, Dnnl } from '@rxvision/dnnl-linux-x64';
import { patchKernel } from '../kernel-patches.js';
import { heapOf } from '../wasm-heap.js';

/**
 * An activation and its gradient as one kernel each, by the names and contract @rxvision/model's
 * activation layer asks the backend for (it computes them from tfjs ops where a backend has none):
 * forward {x} → y, backward {dy, x} → dx; attrs {activation}, a tfjs-layers name the addon takes.
 */
export const ACTIVATION_KERNELS = { forward: 'RxvisionActivation', gradient: 'RxvisionActivationGrad' } as const;

/**
 * Registers those kernels for `backendName` (a wasm-heap backend, or cpu's arrays: `heapOf`) on oneDNN's eltwise primitives,
 * which read and write the heap in place: on airbench's network GELU from tfjs-wasm's Erf, Exp and
 * products took about 600 ms of a 2.4 s step.
 */
export function useOneDnnActivations(backendName: string, dnnl: Dnnl): void {
  patchKernel(backendName, ACTIVATION_KERNELS.forward, 'onednn', () => forward(dnnl));
  patchKernel(backendName, ACTIVATION_KERNELS.gradient, 'onednn', () => gradient(dnnl));
}

function float32(x: TensorInfo, kernel: string): void {
  if (x.dtype !== 'float32') throw new Error(`${kernel}: a float32 tensor is needed, got ${x.dtype}`);
}

function forward(dnnl: Dnnl): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as unknown as { x: TensorInfo };
    const { activation } = attrs as unknown as { activation: ActivationName };
    float32(x, ACTIVATION_KERNELS.forward);
    const heap = heapOf(backend);
    const y = heap.makeOutput([...x.shape], 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    const [xs, ys] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(y)];
    dnnl.activation({ activation, elements: xs.length, x: xs, y: ys });
    return y;
  };
}

function gradient(dnnl: Dnnl): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, x } = inputs as unknown as { dy: TensorInfo; x: TensorInfo };
    const { activation } = attrs as unknown as { activation: ActivationName };
    float32(x, ACTIVATION_KERNELS.gradient);
    const heap = heapOf(backend);
    const dx = heap.makeOutput([...x.shape], 'float32');
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    const xs = view(x);
    dnnl.activationBackward({ activation, elements: xs.length, x: xs, dy: view(dy), dx: view(dx) });
    return dx;
  };
}
