import { type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { patchKernel } from './kernel-patches.js';
import { heapOf } from './wasm-heap.js';

const OPERATIONS = {
  Add: (a: number, b: number) => a + b,
  Sub: (a: number, b: number) => a - b,
  Multiply: (a: number, b: number) => a * b,
} as const;

/**
 * Add, Sub and Multiply of float32 tensors as plain loops where one operand is the other's shape,
 * a single value, or the other's trailing axes (a bias over channels): tfjs-backend-cpu's general
 * kernel works out every element's broadcast position (Add and Multiply took 1.4 s of ResNet-18's
 * step at batch 8). The same arithmetic, so the same values; other cases go to the original.
 */
export function usePlainBinaryOps(backendName: string): void {
  for (const [kernel, operation] of Object.entries(OPERATIONS))
    patchKernel(backendName, kernel, 'plain-binary-ops', (original) => plainBinary(operation, original!));
}

/** How b's elements repeat along a's: every element (`period` a.length), or one value per trailing block. */
function period(big: number[], small: number[]): number | undefined {
  if (util.sizeFromShape(small) === 1) return 1;
  if (small.length > big.length) return undefined;
  const trailing = big.slice(big.length - small.length);
  return trailing.every((n, i) => n === small[i]) ? util.sizeFromShape(small) : undefined;
}

function plainBinary(operation: (a: number, b: number) => number, original: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as unknown as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const aPeriod = a.shape.length >= b.shape.length ? period(a.shape, b.shape) : undefined;
    const aFirst = aPeriod !== undefined;
    const [big, small] = aFirst ? [a, b] : [b, a];
    const every = aPeriod ?? period(b.shape, a.shape);
    if (every === undefined || util.sizeFromShape(big.shape) === 0) return original(args);
    const heap = heapOf(args.backend);
    const out = heap.makeOutput([...big.shape], 'float32');
    const [x, y, z] = [heap.typedArrayFromHeap(big), heap.typedArrayFromHeap(small), heap.typedArrayFromHeap(out)];
    // Kept in a's and b's order: Sub is not symmetric.
    if (every === 1) {
      const v = y[0]!;
      for (let i = 0; i < x.length; i++) z[i] = aFirst ? operation(x[i]!, v) : operation(v, x[i]!);
    } else {
      for (let i = 0, j = 0; i < x.length; i++, j = j + 1 === every ? 0 : j + 1)
        z[i] = aFirst ? operation(x[i]!, y[j]!) : operation(y[j]!, x[i]!);
    }
    return out;
  };
}
