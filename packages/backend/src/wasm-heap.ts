import type { TensorInfo } from '@tensorflow/tfjs-core';

/** What kernels written here need of the wasm backend: views of tensors in its heap, and new outputs. */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
