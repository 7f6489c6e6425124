import { type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { patchKernel } from './kernel-patches.js';
import type { OneDnn } from './onednn.js';
import { MAT_MUL_KERNELS } from './onnxruntime-mat-mul.js';
import type { HeapBackend } from './wasm-heap.js';

interface MatMulInputs {
  a: TensorInfo;
  b: TensorInfo;
  bias?: TensorInfo;
  preluActivationWeights?: TensorInfo;
}

/**
 * Hands `backendName`'s BatchMatMul and _FusedMatMul (a wasm-heap backend) to oneDNN's matmul,
 * which reads the operands in the heap in place, a transposed one through its strides, and writes
 * the product there: no copy, no buffer made per call. Products it does not cover (batched,
 * non-float, activations other than ReLU, a bias not of the output's columns) go to the kernel
 * registered before.
 */
export function useOneDnnMatMul(backendName: string, dnnl: OneDnn): void {
  for (const name of MAT_MUL_KERNELS) patchKernel(backendName, name, 'onednn', (original) => matMul(dnnl, original!));
}

function matMul(dnnl: OneDnn, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { a, b, bias, preluActivationWeights } = inputs as unknown as MatMulInputs;
    const { transposeA, transposeB, activation = 'linear' } = attrs as unknown as { transposeA: boolean; transposeB: boolean; activation?: string };
    const [aRows, aColumns] = a.shape.slice(-2) as [number, number];
    const [bRows, bColumns] = b.shape.slice(-2) as [number, number];
    const [m, k] = transposeA ? [aColumns, aRows] : [aRows, aColumns];
    const n = transposeB ? bRows : bColumns;
    const covered =
      util.sizeFromShape(a.shape.slice(0, -2)) === 1 &&
      util.sizeFromShape(b.shape.slice(0, -2)) === 1 &&
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      m > 0 && k > 0 && n > 0 &&
      !preluActivationWeights &&
      (activation === 'linear' || activation === 'relu') &&
      (!bias || (bias.dtype === 'float32' && util.sizeFromShape(bias.shape) === n && bias.shape.at(-1) === n));
    if (!covered) return fallback(args);
    const heap = backend as unknown as HeapBackend;
    const out = heap.makeOutput([...Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1), m, n], 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    dnnl.matMul(m, k, n, transposeA, transposeB, view(a), view(b), bias ? view(bias) : null, view(out), activation === 'relu');
    return out;
  };
}
