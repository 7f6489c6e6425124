/**
 * What oneDNN's convolutions and matrix products compute in: float32, or bfloat16 mixed precision
 * (bfloat16 copies of what a pass reads, float32 sums and outputs; tfjs's tensors, and so the
 * weights the optimizer updates, stay float32), which AVX512-BF16 runs at about twice float32's rate.
 */
export type ComputePrecision = 'float32' | 'bfloat16';

export const COMPUTE_PRECISIONS: readonly ComputePrecision[] = ['float32', 'bfloat16'];

/** The backends whose oneDNN kernels compute in bfloat16 now; every other computes in float32. */
const inBfloat16 = new Set<string>();

/** From now on, `backendName`'s oneDNN convolutions and products compute in `precision`. */
export function setOneDnnPrecision(backendName: string, precision: ComputePrecision): void {
  if (precision === 'bfloat16') inBfloat16.add(backendName);
  else inBfloat16.delete(backendName);
}

/** Whether `backendName`'s oneDNN kernels compute in bfloat16: read at each call, so it may change between runs. */
export const computesInBfloat16 = (backendName: string): boolean => inBfloat16.has(backendName);
