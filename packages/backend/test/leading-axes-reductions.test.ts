import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { selectBackend } from '../src/node/index.js';

/** Deterministic values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/** The reduction written out: sums (or means) over `axes`, in float64. */
function reduce(data: Float32Array, shape: number[], axes: number[], mean: boolean): number[] {
  const kept = shape.map((size, axis) => (axes.includes(axis) ? 1 : size));
  const out = new Float64Array(kept.reduce((a, b) => a * b, 1));
  const strides = shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
  const keptStrides = kept.map((_, axis) => kept.slice(axis + 1).reduce((a, b) => a * b, 1));
  data.forEach((value, flat) => {
    let at = 0;
    shape.forEach((_, axis) => {
      const index = Math.floor(flat / strides[axis]!) % shape[axis]!;
      if (!axes.includes(axis)) at += index * keptStrides[axis]!;
    });
    out[at]! += value;
  });
  const count = axes.reduce((n, axis) => n * shape[axis]!, 1);
  return Array.from(out, (sum) => (mean ? sum / count : sum));
}

const CASES = [
  { shape: [4, 5, 5, 3], axis: [0, 1, 2], keepDims: false },
  { shape: [4, 5, 5, 3], axis: [2, 0, 1], keepDims: true },
  { shape: [4, 5, 5, 3], axis: [-4, -3, -2], keepDims: false },
  { shape: [7, 6], axis: [0], keepDims: false },
  { shape: [4, 5, 5, 3], axis: [1, 2], keepDims: false }, // not leading: the backend's own kernel
  { shape: [4, 5, 5, 3], axis: [0, 1, 2, 3], keepDims: false }, // every axis: the backend's own kernel
];

describe.each(['onnxruntime', 'wasm'] as const)('Sum and Mean on %s', (backend) => {
  test.each(CASES)('over $axis of $shape (keepDims $keepDims) equal the written-out reduction', async ({ shape, axis, keepDims }) => {
    await selectBackend(backend, { threads: 1 });
    const data = values(
      shape.reduce((a, b) => a * b, 1),
      9,
    );
    const before = tf.memory().numTensors;
    const x = tf.tensor(data, shape);
    const sum = tf.sum(x, axis, keepDims);
    const mean = tf.mean(x, axis, keepDims);
    const normalised = axis.map((a) => (a < 0 ? a + shape.length : a));
    const keptShape = keepDims ? shape.map((s, a) => (normalised.includes(a) ? 1 : s)) : shape.filter((_, a) => !normalised.includes(a));
    expect(sum.shape).toEqual(keptShape);
    expect(mean.shape).toEqual(keptShape);
    const [sums, means] = [Array.from(await sum.data()), Array.from(await mean.data())];
    reduce(data, shape, normalised, false).forEach((want, i) => expect(sums[i]).toBeCloseTo(want, 4));
    reduce(data, shape, normalised, true).forEach((want, i) => expect(means[i]).toBeCloseTo(want, 5));
    tf.dispose([x, sum, mean]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('an int32 sum keeps its dtype and value', async () => {
    await selectBackend(backend, { threads: 1 });
    const x = tf.tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      [3, 2],
      'int32',
    );
    const sum = tf.sum(x, 0);
    expect(sum.dtype).toBe('int32');
    expect(Array.from(await sum.data())).toEqual([9, 12]);
    tf.dispose([x, sum]);
  });
});
