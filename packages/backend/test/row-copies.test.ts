import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { patchedBy } from '../src/kernel-patches.js';
import { selectBackend } from '../src/node/index.js';

/** A seeded integer in [0, n). */
function draws(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
}

/** Row-major strides of `shape`. */
const stridesOf = (shape: number[]) => shape.map((_, axis) => shape.slice(axis + 1).reduce((a, b) => a * b, 1));
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** The element of a `shape` tensor at flat `flat`, as its index. */
const indexOf = (flat: number, shape: number[]) => stridesOf(shape).map((stride, axis) => Math.floor(flat / stride) % shape[axis]!);

/** Slice and pad written out element by element: the reference. */
function sliced(data: Float32Array, shape: number[], begin: number[], size: number[]): number[] {
  const strides = stridesOf(shape);
  return Array.from({ length: sizeOf(size) }, (_, flat) =>
    indexOf(flat, size).reduce((at, i, axis) => at + (begin[axis]! + i) * strides[axis]!, 0),
  ).map((at) => data[at]!);
}
function padded(data: Float32Array, shape: number[], paddings: [number, number][], value: number): number[] {
  const outShape = shape.map((s, axis) => s + paddings[axis]![0] + paddings[axis]![1]);
  const strides = stridesOf(shape);
  return Array.from({ length: sizeOf(outShape) }, (_, flat) => {
    const index = indexOf(flat, outShape).map((i, axis) => i - paddings[axis]![0]);
    const inside = index.every((i, axis) => i >= 0 && i < shape[axis]!);
    return inside ? data[index.reduce((at, i, axis) => at + i * strides[axis]!, 0)]! : value;
  });
}

describe.each(['wasm', 'onednn'] as const)('Slice and PadV2 as row copies on %s', (backend) => {
  test('are the row-copy kernels, and equal the element-by-element reference on 300 random shapes', async () => {
    await selectBackend(backend, { threads: 1 });
    for (const kernel of ['Slice', 'PadV2'])
      expect(patchedBy(tf.getKernel(kernel, tf.getBackend())?.kernelFunc, 'row-copies'), kernel).toBe(true);
    const draw = draws(7);
    const before = tf.memory().numTensors;
    for (let round = 0; round < 300; round++) {
      const shape = Array.from({ length: 1 + draw(5) }, () => 1 + draw(6));
      const data = Float32Array.from({ length: sizeOf(shape) }, () => draw(1000) - 500);
      const x = tf.tensor(data, shape);
      // Half the axes whole, the rest a random window: whole trailing axes make long runs.
      const begin = shape.map((s) => (draw(2) ? 0 : draw(s)));
      const size = shape.map((s, axis) => (begin[axis] === 0 && draw(2) ? s : 1 + draw(s - begin[axis]!)));
      const paddings = shape.map(() => [draw(3), draw(3)] as [number, number]);
      const [s, p] = [tf.slice(x, begin, size), tf.pad(x, paddings, round % 2 ? 0 : 1.5)];
      expect(s.shape).toEqual(size);
      expect(Array.from(await s.data())).toEqual(sliced(data, shape, begin, size));
      expect(Array.from(await p.data())).toEqual(padded(data, shape, paddings, round % 2 ? 0 : 1.5));
      tf.dispose([x, s, p]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  test("a pad's gradient is its slice: the same as on cpu for a padded convolution", async () => {
    const gradient = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(
          Float32Array.from({ length: 2 * 5 * 6 * 3 }, (_, i) => Math.sin(i)),
          [2, 5, 6, 3],
        );
        const w = tf.tensor4d(
          Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
          [3, 3, 3, 4],
        );
        return tf
          .grad((input: tf.Tensor) =>
            tf.sum(
              tf.conv2d(
                tf.pad(input as tf.Tensor4D, [
                  [0, 0],
                  [3, 1],
                  [2, 2],
                  [0, 0],
                ]) as tf.Tensor4D,
                w,
                2,
                'valid',
              ),
            ),
          )(x)
          .dataSync();
      });
    await selectBackend('cpu');
    const expected = Array.from(gradient());
    await selectBackend(backend, { threads: 1 });
    Array.from(gradient()).forEach((value, i) => expect(value).toBeCloseTo(expected[i]!, 4));
  });
});
