import { getKernel, type KernelFunc, type SumAttrs, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { patchKernel } from './kernel-patches.js';
import { heapOf } from './wasm-heap.js';

const REDUCTIONS = ['Sum', 'Mean'] as const;

/**
 * Sum and Mean over the leading axes of a float32 tensor (over N, H and W of an NHWC tensor: every
 * batch-norm statistic and gradient) as one pass over the rows. tfjs-backend-wasm 4.22 first
 * transposes the tensor so that the reduced axes come last, which cost a ResNet's training step more
 * than its convolutions. Any other reduction goes to the original kernel.
 */
export function useLeadingAxesReductions(backendName: string, sumRows: SumRows = sumRowsInJavaScript): void {
  for (const name of REDUCTIONS) {
    if (!getKernel(name, backendName)) continue;
    patchKernel(backendName, name, 'leading-axes', (original) => leadingAxes(name, original!, sumRows));
  }
}

function leadingAxes(name: (typeof REDUCTIONS)[number], original: KernelFunc, sumRows: SumRows): KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as SumAttrs;
    const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return original(args);
    const heap = heapOf(args.backend);
    const kept = x.shape.slice(axes.length);
    const out = heap.makeOutput(keepDims ? x.shape.map((size, i) => (i < axes.length ? 1 : size)) : kept, 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    const values = heap.typedArrayFromHeap(x);
    const result = heap.typedArrayFromHeap(out);
    const columns = util.sizeFromShape(kept);
    const rows = values.length / columns;
    sumRows({ rows, columns, scale: name === 'Mean' ? 1 / rows : 1, x: values, y: result });
    return out;
  };
}

/**
 * y[c] = scale · Σ_r x[r, c] over `rows` rows of `columns`; oneDNN's addon has one on threads, with
 * this signature.
 */
export type SumRows = (call: { rows: number; columns: number; scale: number; x: Float32Array; y: Float32Array }) => void;

function sumRowsInJavaScript({ rows, columns, scale, x, y }: Parameters<SumRows>[0]): void {
  // float64 sums: a batch of 128 32×32 images adds 131,072 terms per channel.
  const sums = new Float64Array(columns);
  for (let row = 0, at = 0; row < rows; row++) for (let c = 0; c < columns; c++, at++) sums[c]! += x[at]!;
  for (let c = 0; c < columns; c++) y[c] = sums[c]! * scale;
}
