import type { TensorInfo } from '@tensorflow/tfjs-core';
import { patchKernel } from './kernel-patches.js';

interface RefCounted {
  incRef(dataId: object): void;
}

/**
 * Identity, and a Cast to the dtype a tensor has, as a second reference to the same data, as
 * tfjs-backend-cpu's Identity and wasm's own Reshape do, instead of tfjs-backend-wasm 4.22's copy.
 * tfjs clones every tensor it saves for the backward pass through Identity, and Identity's gradient
 * casts dy to float32 (tfjs-layers clones a layer's output that is its input: a ReLU passing on a
 * batch norm's rectified output); tensors are immutable, so the copies bought nothing. A small
 * ResNet's training step made 97 of them; the casts were 3.6 ms of a VGG-style CNN's step.
 */
export function useSharedIdentity(backendName: string): void {
  const share = (x: TensorInfo, backend: unknown): TensorInfo => {
    (backend as RefCounted).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  patchKernel(backendName, 'Identity', 'shared-identity', (original) => (args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    return x.dtype === 'string' ? original!(args) : share(x, args.backend);
  });
  patchKernel(backendName, 'Cast', 'shared-identity', (original) => (args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    const { dtype } = args.attrs as unknown as { dtype: string };
    return x.dtype === dtype && x.dtype !== 'string' ? share(x, args.backend) : original!(args);
  });
}
