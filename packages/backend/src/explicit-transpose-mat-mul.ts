import { type BatchMatMulAttrs, type BatchMatMulInputs, getKernel, type KernelConfig, type KernelFunc, registerKernel, type Tensor, type TensorInfo, unregisterKernel } from '@tensorflow/tfjs-core';

const BATCH_MAT_MUL = 'BatchMatMul';
const TRANSPOSE = 'Transpose';
const patched = new Set<string>();

/**
 * Replaces a backend's BatchMatMul kernel with one that transposes its inputs explicitly and
 * then multiplies without transposition flags. The wasm backend's transposed matMul (which every
 * matMul gradient uses) is about 5x slower than a transpose plus a plain matMul. Patching the
 * kernel, not one gradient, covers every caller: stock gradients, fused layers and user code.
 */
export function useExplicitTransposeMatMul(backendName: string): void {
  if (patched.has(backendName)) return;
  const original = getKernel(BATCH_MAT_MUL, backendName);
  const transpose = getKernel(TRANSPOSE, backendName);
  if (!original || !transpose) return;
  const multiply = original.kernelFunc as KernelFunc;
  const transposeFunc = transpose.kernelFunc as KernelFunc;
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as unknown as BatchMatMulInputs;
    const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
    if (!transposeA && !transposeB) return multiply({ inputs, backend, attrs });
    const swapLast = (x: Tensor | TensorInfo): TensorInfo => {
      const rank = x.shape.length;
      const perm = [...Array(rank).keys()];
      [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1]!, perm[rank - 2]!];
      return transposeFunc({ inputs: { x }, backend, attrs: { perm } }) as TensorInfo;
    };
    const aT = transposeA ? swapLast(a!) : a!;
    const bT = transposeB ? swapLast(b!) : b!;
    const result = multiply({ inputs: { a: aT, b: bT }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    const disposable = backend as unknown as { disposeData(dataId: object): void };
    if (transposeA) disposable.disposeData(aT.dataId);
    if (transposeB) disposable.disposeData(bT.dataId);
    return result;
  };
  unregisterKernel(BATCH_MAT_MUL, backendName);
  registerKernel({ ...(original as KernelConfig), kernelFunc });
  patched.add(backendName);
}
