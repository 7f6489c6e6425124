import type { TensorInfo } from '@tensorflow/tfjs-core';
import { importOptional } from './node-binding.js';
import type { HeapBackend } from '../wasm-heap.js';

/** What the kernels here need of @rxvision/dnnl-linux-x64's addon (its `Dnnl`, which says more). */
export interface OneDnn {
  readonly version: string;
  conv2d(geometry: Int32Array, x: Float32Array, filter: Float32Array, bias: Float32Array | null, y: Float32Array, relu: boolean): void;
  conv2dBackwardData(geometry: Int32Array, dy: Float32Array, filter: Float32Array, dx: Float32Array): void;
  conv2dBackwardFilter(geometry: Int32Array, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  pool2d(geometry: Int32Array, max: boolean, x: Float32Array, y: Float32Array): void;
  pool2dBackward(geometry: Int32Array, max: boolean, x: Float32Array | null, dy: Float32Array, dx: Float32Array): void;
  sumRows(rows: number, columns: number, scale: number, x: Float32Array, y: Float32Array): void;
  matMul(
    m: number,
    k: number,
    n: number,
    transposeA: boolean,
    transposeB: boolean,
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    relu: boolean,
  ): void;
  batchNormTraining(
    rows: number,
    channels: number,
    epsilon: number,
    x: Float32Array,
    scale: Float32Array,
    offset: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  batchNormTrainingGrad(
    rows: number,
    channels: number,
    epsilon: number,
    x: Float32Array,
    dy: Float32Array,
    scale: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dx: Float32Array,
    dscale: Float32Array,
    doffset: Float32Array,
  ): void;
  setThreads(threads: number): void;
  keepFreedMemory(mmapThreshold: number, trimThreshold: number): boolean;
}

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
export async function loadOneDnn(): Promise<{ dnnl: OneDnn } | { problem: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return { problem: `no native package for ${process.platform} ${process.arch}` };
  try {
    const { loadDnnl } = (await importOptional(ONEDNN_PACKAGE)) as { loadDnnl(): OneDnn };
    return { dnnl: loadDnnl() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/Cannot find (package|module) '@rxvision\/dnnl/.test(message)) return { problem: `${ONEDNN_PACKAGE} is not installed` };
    return { problem: message.split('\n')[0]! };
  }
}
