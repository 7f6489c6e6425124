import {
  type BatchMatMulAttrs,
  type BatchMatMulInputs,
  getKernel,
  type KernelFunc,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { patchKernel } from './kernel-patches.js';

const MAT_MUL_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;
const TRANSPOSE = 'Transpose';

/**
 * Replaces a backend's BatchMatMul and _FusedMatMul kernels with ones that transpose their inputs
 * explicitly and then multiply without transposition flags. The wasm backend's transposed matMul
 * (which every matMul gradient uses) is about 5x slower than a transpose plus a plain matMul, and
 * its transposed _FusedMatMul is wrong (4.22: a 5×7 by 7×3 product with either flag differs from
 * cpu's). Patching the kernels, not one gradient, covers every caller: stock gradients, fused
 * layers and user code.
 */
export function useExplicitTransposeMatMul(backendName: string): void {
  const transpose = getKernel(TRANSPOSE, backendName);
  if (!transpose) return;
  for (const name of MAT_MUL_KERNELS) {
    if (!getKernel(name, backendName)) continue;
    patchKernel(backendName, name, 'explicit-transpose', (original) => explicitTranspose(original!, transpose.kernelFunc as KernelFunc));
  }
}

function explicitTranspose(multiply: KernelFunc, transposeFunc: KernelFunc): KernelFunc {
  return ({ inputs, backend, attrs }) => {
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
    const result = multiply({ inputs: { ...inputs, a: aT, b: bT }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } });
    const disposable = backend as unknown as { disposeData(dataId: object): void };
    if (transposeA) disposable.disposeData(aT.dataId);
    if (transposeB) disposable.disposeData(bT.dataId);
    return result;
  };
}
