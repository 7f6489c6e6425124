import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './backend-error.js';

/** tfjs-backend-wasm's heap ends here (its build's MAXIMUM_MEMORY): every tensor of wasm, onednn and onnxruntime lives in it. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** More than dlmalloc adds to a request when it extends the heap (alignment, chunk headers, top padding). */
const SBRK_SLACK_BYTES = 16 << 20;

/** A tensor that does not fit the backend's memory: said before anything was written to it. */
export class BackendMemoryError extends BackendError {
  override readonly name: string = 'BackendMemoryError';

  constructor(
    readonly backend: string,
    readonly requestedBytes: number,
  ) {
    super(
      `the ${backend} backend's memory is full (tfjs-wasm's heap, at most ${gigabytes(WASM_HEAP_BYTES)}): ${megabytes(requestedBytes)} more did not fit`,
    );
  }
}

interface WasmModule {
  _malloc(bytes: number): number;
  /** The heap as it is now: its length is what the heap has grown to. */
  HEAPU8: Uint8Array;
  /** The module's exports: `_malloc` is a stub that replaces itself with `asm.malloc` on its first call. */
  asm?: { malloc?: (bytes: number) => number };
}

const guarded = new WeakSet<WasmModule>();

/**
 * Makes a failed allocation in the wasm heap a BackendMemoryError. tfjs-backend-wasm takes the
 * null pointer its malloc returns when the heap is full and writes through it, which ends in
 * "memory access out of bounds" and a heap no longer to be trusted; this throws before that write,
 * and before a request that would carry the heap's end past 4 GB, which its sbrk gets wrong.
 * Call with the wasm backend (or a variant of it) current.
 */
export function guardWasmHeap(): void {
  const module = (tf.backend() as unknown as { wasm?: WasmModule }).wasm;
  if (!module || guarded.has(module)) return;
  guarded.add(module);
  const malloc = module.asm?.malloc ?? module._malloc.bind(module);
  module._malloc = (bytes: number) => {
    // A request that could only be met by growing the heap past 4 GB is refused before malloc sees
    // it: this build's allocator then returned a block running off the end of memory (seen with a
    // heap of 3.57 GB and a request of 1.77 GB), and tfjs wrote through it. (Near a full heap this
    // may refuse a block that a free gap could have held: never a wrong one.)
    if (module.HEAPU8.length + bytes + SBRK_SLACK_BYTES >= WASM_HEAP_BYTES) throw new BackendMemoryError(tf.getBackend(), bytes);
    const pointer = malloc(bytes) >>> 0;
    if (pointer === 0 && bytes > 0) throw new BackendMemoryError(tf.getBackend(), bytes);
    if (pointer + bytes > module.HEAPU8.length)
      throw new BackendError(
        `tfjs-wasm's allocator returned a block past the end of its heap for ${megabytes(bytes)}; the process cannot go on safely`,
      );
    return pointer;
  };
}

const gigabytes = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GB`;
const megabytes = (bytes: number) => `${Math.ceil(bytes / 1024 ** 2).toLocaleString('en-US')} MB`;
