import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/**
 * Registers backend `name` as a cpu backend of its own (a new MathBackendCPU: each tensor a
 * Float32Array in the process's memory, so no heap caps the model) with, to start with, the cpu
 * backend's kernels, which the caller then replaces for `name` alone with native ones (`heapOf`
 * gives them its arrays). Kernels registered for cpu later are not copied.
 */
export function registerCpuVariant(name: string): void {
  if (tf.findBackendFactory(name)) return;
  tf.registerBackend(name, () => new MathBackendCPU(), 0);
  for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: name });
}
