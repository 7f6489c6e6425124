import type { TensorInfo } from '@tensorflow/tfjs-core';
import { patchKernel } from './kernel-patches.js';

interface RefCounted {
  incRef(dataId: object): void;
}

/**
 * Identity as a second reference to the same data, as tfjs-backend-cpu's Identity and wasm's own
 * Reshape do, instead of tfjs-backend-wasm 4.22's copy. tfjs clones every tensor it saves for the
 * backward pass through Identity; tensors are immutable, so the copies bought nothing. A small
 * ResNet's training step made 97 of them.
 */
export function useSharedIdentity(backendName: string): void {
  patchKernel(backendName, 'Identity', 'shared-identity', (original) => (args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    if (x.dtype === 'string') return original!(args);
    (args.backend as unknown as RefCounted).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}
