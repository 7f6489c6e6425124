import { backend_util, type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BinaryOperation, Dnnl } from '@rxvision/dnnl-linux-x64';
import { patchKernel } from '../kernel-patches.js';
import { heapOf } from '../wasm-heap.js';
import { nativeOr } from './onednn.js';

/** tfjs's element-wise kernels the addon computes, and whether a ∘ b = b ∘ a. */
const KERNELS: Record<string, { op: BinaryOperation; commutes: boolean }> = {
  Add: { op: 'add', commutes: true },
  Sub: { op: 'sub', commutes: false },
  Multiply: { op: 'mul', commutes: true },
  RealDiv: { op: 'div', commutes: false },
};

/**
 * Below this many elements the kernel replaced answers: a native call costs some 25 µs whatever
 * its size (threads woken, a kernel compiled for each new shape), and wasm's is as fast up to here
 * (an add of 2^20 elements: 159 µs against wasm's 190; of 2^22: 852 against 1,323).
 */
export const NATIVE_BINARY_MIN_ELEMENTS = 1 << 18;

/**
 * Element-wise binary operations of float32 tensors on oneDNN's vectorised kernels, on every
 * thread: wasm ran a CIFAR ResNet's residual sums and their gradients' accumulations on one, about
 * 5 ms of a 128 ms step. Each element is one IEEE operation, so the values are the replaced
 * kernel's. Where one operand has the output's shape and the other broadcasts over it (the first
 * operand the full one, unless the operation commutes), and the addon has a vectorised kernel for
 * that broadcast; anything else goes to the kernel replaced.
 */
export function useOneDnnBinaryOps(backendName: string, dnnl: Dnnl): void {
  for (const [kernel, { op, commutes }] of Object.entries(KERNELS))
    patchKernel(backendName, kernel, 'onednn', (original) => binary(dnnl, op, commutes, original!));
}

function binary(dnnl: Dnnl, op: BinaryOperation, commutes: boolean, original: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as unknown as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const shape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (util.sizeFromShape(shape) < NATIVE_BINARY_MIN_ELEMENTS) return original(args);
    const padded = (t: TensorInfo) => [...Array<number>(shape.length - t.shape.length).fill(1), ...t.shape];
    const full = (t: TensorInfo) => util.arraysEqual(t.shape, shape);
    const [big, small] = full(a) ? [a, b] : commutes && full(b) ? [b, a] : [];
    if (!big || !small) return original(args);
    const heap = heapOf(args.backend);
    const out = heap.makeOutput(shape, 'float32');
    const view = (t: TensorInfo) => heap.typedArrayFromHeap(t);
    const call = () => dnnl.binary({ op, shape, bShape: padded(small), a: view(big), b: view(small), y: view(out) });
    return nativeOr(heap, out, call, () => original(args) as TensorInfo);
  };
}
