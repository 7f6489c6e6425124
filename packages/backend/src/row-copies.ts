import { type KernelFunc, type PadV2Attrs, type SliceAttrs, slice_util, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { patchKernel } from './kernel-patches.js';
import { heapOf } from './wasm-heap.js';

/**
 * Slice and PadV2 of float32 tensors as copies of whole runs (`Float32Array.set`, a memcpy) rather
 * than tfjs-backend-wasm 4.22's element-by-element loops: every explicit padding (an ImageNet
 * ResNet's stem and strided convolutions, as torchvision pads them) is a PadV2 forward and a Slice
 * backward, 180 ms of ResNet-18's step at 224 px. Other dtypes and empty tensors go to the original.
 */
export function useRowCopies(backendName: string): void {
  patchKernel(backendName, 'Slice', 'row-copies', (original) => sliceByRows(original!));
  patchKernel(backendName, 'PadV2', 'row-copies', (original) => padByRows(original!));
}

function sliceByRows(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    const attrs = args.attrs as unknown as SliceAttrs;
    const [begin, size] = slice_util.parseSliceParams(x as never, attrs.begin, attrs.size) as [number[], number[]];
    if (x.dtype !== 'float32' || size.some((s) => s === 0)) return original(args);
    const heap = heapOf(args.backend);
    const out = heap.makeOutput(size, 'float32');
    // Views after makeOutput: growing the heap would detach views taken before it.
    const [from, to] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out)];
    const runs = contiguousRuns(x.shape, size);
    const strides = util.computeStrides([...x.shape]);
    forEachIndex(size.slice(0, runs.axis), (index, run) => {
      let at = begin[runs.axis]! * runs.inner;
      index.forEach((i, axis) => (at += (begin[axis]! + i) * strides[axis]!));
      to.set(from.subarray(at, at + runs.length), run * runs.length);
    });
    return out;
  };
}

function padByRows(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as unknown as { x: TensorInfo };
    const { paddings, constantValue } = args.attrs as unknown as PadV2Attrs;
    const flat = paddings.flat();
    if (x.dtype !== 'float32' || x.shape.some((s) => s === 0) || flat.some((p) => !(Number.isInteger(p) && p >= 0))) return original(args);
    const heap = heapOf(args.backend);
    const shape = x.shape.map((s, axis) => s + paddings[axis]![0] + paddings[axis]![1]);
    const out = heap.makeOutput(shape, 'float32');
    const [from, to] = [heap.typedArrayFromHeap(x), heap.typedArrayFromHeap(out)];
    to.fill(constantValue);
    // The runs of x, laid into the padded tensor: x's shape is the "slice" of the padded one.
    const runs = contiguousRuns(shape, x.shape);
    const strides = util.computeStrides([...shape]);
    forEachIndex(x.shape.slice(0, runs.axis), (index, run) => {
      let at = paddings[runs.axis]![0] * runs.inner;
      index.forEach((i, axis) => (at += (paddings[axis]![0] + i) * strides[axis]!));
      to.set(from.subarray(run * runs.length, (run + 1) * runs.length), at);
    });
    return out;
  };
}

/**
 * A block of `size` within a tensor of `shape` as contiguous runs: past the last axis where the
 * block is narrower than the tensor (`axis`), both are whole, so a run is `size[axis]` rows of
 * `inner` elements. A block as wide as the tensor everywhere is one run.
 */
function contiguousRuns(shape: readonly number[], size: readonly number[]): { axis: number; inner: number; length: number } {
  let axis = shape.length - 1;
  while (axis > 0 && size[axis] === shape[axis]) axis--;
  const inner = util.sizeFromShape([...shape.slice(axis + 1)]);
  return { axis, inner, length: size[axis]! * inner };
}

/** Calls `visit` with every index of `shape`, last axis fastest, and its place in that order. */
function forEachIndex(shape: readonly number[], visit: (index: readonly number[], place: number) => void): void {
  const index = shape.map(() => 0);
  const count = util.sizeFromShape([...shape]);
  for (let place = 0; place < count; place++) {
    visit(index, place);
    for (let axis = shape.length - 1; axis >= 0 && ++index[axis]! === shape[axis]; axis--) index[axis] = 0;
  }
}
