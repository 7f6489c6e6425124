import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { patchKernel } from '../kernel-patches.js';
import type { Dnnl } from '@rxvision/dnnl-linux-x64';
import { nativeOr } from './onednn.js';
import { computesInBfloat16 } from './onednn-precision.js';
import { MAT_MUL_KERNELS } from './onnxruntime-mat-mul.js';
import { plainProduct } from '../plain-product.js';
import { heapOf } from '../wasm-heap.js';

/**
 * Hands `backendName`'s BatchMatMul and _FusedMatMul (a wasm-heap backend, or cpu's arrays: `heapOf`) to oneDNN's matmul,
 * which reads the operands in the heap in place, a transposed one through its strides, and writes
 * the product there: no copy, no buffer made per call. Products it does not cover (batched,
 * non-float, activations other than ReLU, a bias not of the output's columns) go to the kernel
 * registered before. Each product computes in bfloat16 while `setOneDnnPrecision` says so for `backendName`.
 */
export function useOneDnnMatMul(backendName: string, dnnl: Dnnl): void {
  const bf16 = () => computesInBfloat16(backendName);
  for (const name of MAT_MUL_KERNELS) patchKernel(backendName, name, 'onednn', (original) => matMul(dnnl, bf16, original!));
}

function matMul(dnnl: Dnnl, bf16: () => boolean, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const product = plainProduct(args.inputs, args.attrs);
    if (!product) return fallback(args);
    const { a, b, bias, m, k, n, transposeA, transposeB, relu, outShape } = product;
    const heap = heapOf(args.backend);
    const out = heap.makeOutput(outShape, 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    const view = (info: TensorInfo) => heap.typedArrayFromHeap(info);
    return nativeOr(
      heap,
      out,
      () =>
        dnnl.matMul({
          shape: { m, k, n, transposeA, transposeB },
          a: view(a),
          b: view(b),
          bias: bias ? view(bias) : null,
          y: view(out),
          relu,
          bf16: bf16(),
        }),
      () => fallback(args) as TensorInfo,
    );
  };
}
