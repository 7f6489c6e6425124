import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './backend-error.js';

/** tfjs-backend-wasm's heap ends here (its build's MAXIMUM_MEMORY): every tensor of wasm, onednn and onnxruntime lives in it. */
export const WASM_HEAP_BYTES = 4 * 1024 ** 3;

/** A tensor that does not fit the backend's memory: said before anything was written to it. */
export class BackendMemoryError extends BackendError {
  override readonly name: string = 'BackendMemoryError';

  constructor(
    readonly backend: string,
    readonly requestedBytes: number,
  ) {
    super(`the ${backend} backend's memory is full (tfjs-wasm's heap, at most ${gigabytes(WASM_HEAP_BYTES)}): ${megabytes(requestedBytes)} more did not fit`);
  }
}

interface WasmModule {
  _malloc(bytes: number): number;
  /** The module's exports: `_malloc` is a stub that replaces itself with `asm.malloc` on its first call. */
  asm?: { malloc?: (bytes: number) => number };
}

const guarded = new WeakSet<WasmModule>();

/**
 * Makes a failed allocation in the wasm heap a BackendMemoryError. tfjs-backend-wasm takes the
 * null pointer its malloc returns when the heap is full and writes through it, which ends in
 * "memory access out of bounds" and a heap no longer to be trusted; this throws before that write,
 * and before a request of 4 GB or more, which wasm's 32-bit malloc would take as a smaller one.
 * Call with the wasm backend (or a variant of it) current.
 */
export function guardWasmHeap(): void {
  const module = (tf.backend() as unknown as { wasm?: WasmModule }).wasm;
  if (!module || guarded.has(module)) return;
  guarded.add(module);
  const malloc = module.asm?.malloc ?? module._malloc.bind(module);
  module._malloc = (bytes: number) => {
    // Past the heap's end it could never fit, and wasm would take the size modulo 2^32.
    if (bytes >= WASM_HEAP_BYTES) throw new BackendMemoryError(tf.getBackend(), bytes);
    const pointer = malloc(bytes);
    if (pointer === 0 && bytes > 0) throw new BackendMemoryError(tf.getBackend(), bytes);
    return pointer;
  };
}

const gigabytes = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GB`;
const megabytes = (bytes: number) => `${Math.ceil(bytes / 1024 ** 2).toLocaleString('en-US')} MB`;
