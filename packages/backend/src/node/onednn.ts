import type { TensorInfo } from '@tensorflow/tfjs-core';
import { importOptional } from './node-binding.js';
import type { HeapBackend } from '../wasm-heap.js';
import type { Dnnl } from '@rxvision/dnnl-linux-x64';

export const ONEDNN_PACKAGE = '@rxvision/dnnl-linux-x64';

/**
 * The code of the addon's error for a problem it does not take rather than guess at (padding
 * beyond the filter, a stride with a dilation, an implementation of oneDNN's known to be wrong
 * there): nothing was written, and the kernel it replaced runs instead.
 */
export const UNSUPPORTED = 'RXVISION_DNNL_UNSUPPORTED';

/**
 * Runs `call`, which writes `outputs` (made by the caller in the heap); where the addon does not
 * take the problem, frees them and returns what `fallback` computes.
 */
export function nativeOr<T extends TensorInfo | TensorInfo[]>(heap: HeapBackend, outputs: T, call: () => void, fallback: () => T): T {
  try {
    call();
    return outputs;
  } catch (error) {
    if ((error as { code?: unknown }).code !== UNSUPPORTED) throw error;
    for (const output of [outputs].flat()) heap.disposeData(output.dataId);
    return fallback();
  }
}

/** This platform's oneDNN addon, or why there is none, in one line. */
export async function loadOneDnn(): Promise<{ dnnl: Dnnl } | { problem: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { problem: `no native package for ${process.platform} ${process.arch}` };
  try {
    const { loadDnnl } = (await importOptional(ONEDNN_PACKAGE)) as { loadDnnl(): Dnnl };
    return { dnnl: loadDnnl() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/Cannot find (package|module) '@rxvision\/dnnl/.test(message)) return { problem: `${ONEDNN_PACKAGE} is not installed` };
    return { problem: message.split('\n')[0]! };
  }
}
