import { type DataId, type TensorInfo, util } from '@tensorflow/tfjs-core';

/**
 * What kernels written here need of a backend whose float32 tensors are arrays they may read and
 * write in place: views of tensors, new outputs, and freeing one unused. The wasm backend is one
 * (views into its heap); the cpu backend's own arrays make another (`heapOf`).
 */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
  disposeData(dataId: DataId): boolean;
}

/** The cpu backend's storage, as far as `heapOf` needs it. */
interface ArrayBackend {
  readonly data: { get(dataId: DataId): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  disposeData(dataId: DataId): boolean;
}

const arrayHeaps = new WeakMap<object, HeapBackend>();

/**
 * A kernel's backend as a `HeapBackend`: the wasm backend itself, or for the cpu backend (each
 * tensor its own Float32Array, in the process's memory: no 4 GB heap) an adapter over its storage.
 */
export function heapOf(backend: unknown): HeapBackend {
  if (typeof (backend as Partial<HeapBackend>).typedArrayFromHeap === 'function') return backend as HeapBackend;
  const arrays = backend as ArrayBackend;
  let heap = arrayHeaps.get(arrays);
  if (!heap) {
    heap = {
      makeOutput: (shape, dtype) => arrays.makeTensorInfo(shape, dtype, new Float32Array(util.sizeFromShape(shape))),
      typedArrayFromHeap: (info) => {
        const values = arrays.data.get(info.dataId)?.values;
        if (!(values instanceof Float32Array))
          throw new TypeError(`a ${info.dtype} tensor of shape [${info.shape.join(', ')}] holds no Float32Array`);
        return values;
      },
      disposeData: (dataId) => arrays.disposeData(dataId),
    };
    arrayHeaps.set(arrays, heap);
  }
  return heap;
}

/**
 * A reused buffer where a kernel lays out its own working arrays and, when the wasm heap is a
 * SharedArrayBuffer (the threaded build), copies of its operands: onnxruntime's binding refuses
 * shared memory, so those go through here; on a plain heap it reads and writes the heap in place.
 */
export class Staging {
  #buffer = new ArrayBuffer(0);

  /**
   * `own`: views of these lengths (contents undefined). `operands`: the heap views themselves, or
   * on a shared heap copies of them, the first `inputs` filled; write the rest back with `writeBack`.
   */
  place(own: readonly number[], operands: readonly Float32Array[], inputs: number): { own: Float32Array[]; operands: Float32Array[] } {
    const shared = operands.some((view) => view.buffer instanceof SharedArrayBuffer);
    const lengths = [...own, ...(shared ? operands.map((view) => view.length) : [])];
    const bytes = lengths.reduce((sum, length) => sum + 4 * length, 0);
    if (this.#buffer.byteLength < bytes) this.#buffer = new ArrayBuffer(bytes);
    let offset = 0;
    const views = lengths.map((length) => {
      const view = new Float32Array(this.#buffer, offset, length);
      offset += 4 * length;
      return view;
    });
    const staged = shared ? views.slice(own.length) : [...operands];
    if (shared) for (let i = 0; i < inputs; i++) staged[i]!.set(operands[i]!);
    return { own: views.slice(0, own.length), operands: staged };
  }
}

/** Copies outputs written in staging into the heap views they stand for (nothing on a plain heap). */
export function writeBack(staged: readonly Float32Array[], heap: readonly Float32Array[]): void {
  staged.forEach((view, i) => {
    if (view !== heap[i]) heap[i]!.set(view);
  });
}
