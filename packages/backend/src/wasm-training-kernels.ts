import { useLeanBatchNormGradient } from './batch-norm-gradient.js';
import { registerConvGradientKernels } from './conv-gradient-kernels.js';
import { useExplicitTransposeMatMul } from './explicit-transpose-mat-mul.js';
import { useCorrectMaxPoolGrad } from './max-pool-grad-kernel.js';
import { useRowCopies } from './row-copies.js';
import { useSharedIdentity } from './shared-identity.js';

export interface WasmTrainingKernelsOptions {
  /** Replace BatchMatMul by explicit transpose + plain matMul (default true; 5x faster training). */
  readonly explicitTransposeMatMul?: boolean;
}

/**
 * The kernel fixes that make tfjs-backend-wasm 4.22 train convolutional networks, on any platform:
 * the convolution gradients it lacks, a correct MaxPoolGrad, a lean batch-norm gradient, identity
 * without a copy, slices and pads as row copies and a faster matrix product. The application calls it once, after registering the
 * backend, as `selectBackend` does in Node; each patch goes through `patchKernel`, so
 * `kernelPatches()` lists what was replaced.
 *
 * ```ts
 * import '@tensorflow/tfjs-backend-wasm';
 * await tf.setBackend('wasm');
 * useWasmTrainingKernels('wasm');
 * ```
 */
export function useWasmTrainingKernels(backendName = 'wasm', options: WasmTrainingKernelsOptions = {}): void {
  useLeanBatchNormGradient();
  if (options.explicitTransposeMatMul !== false) useExplicitTransposeMatMul(backendName);
  registerConvGradientKernels(backendName); // CNNs train on wasm only with these
  useCorrectMaxPoolGrad(backendName);
  useSharedIdentity(backendName); // no copy, so no digit changes
  useRowCopies(backendName); // copies, so no digit changes
}
