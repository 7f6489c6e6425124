import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { useLeanBatchNormGradient } from '../src/index.js';
import { selectBackend } from '../src/node/index.js';

// tfjs-core's own gradient, taken before anything replaces it (selectBackend does).
const original = tf.getGradient('FusedBatchNorm')!;
afterAll(() => tf.registerGradient(original));

/** Deterministic values in [-1, 1). */
function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

interface Case {
  readonly name: string;
  readonly xShape: number[];
  readonly statShape: number[];
}

const CASES: Case[] = [
  { name: 'NHWC with per-channel statistics', xShape: [4, 5, 5, 3], statShape: [3] },
  { name: 'rank 2', xShape: [6, 4], statShape: [4] },
  { name: 'statistics as large as the input', xShape: [2, 3, 3, 2], statShape: [2, 3, 3, 2] },
];
// No case without a scale: tfjs-core 4.22 saves `scale` for the backward pass unconditionally and
// fails on its absence before either gradient runs (tfjs-layers always passes one).

/** Gradients of Σ batchNorm(x, mean, variance, offset, scale)·r with respect to every input. */
async function gradients({ xShape, statShape }: Case): Promise<Float32Array[]> {
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const result = tf.tidy(() => {
    const x = tf.tensor(values(size(xShape), 1), xShape);
    const mean = tf.tensor(values(size(statShape), 2), statShape);
    const variance = tf.add(tf.abs(tf.tensor(values(size(statShape), 3), statShape)), 0.5);
    const offset = tf.tensor(values(size(statShape), 4), statShape);
    const scale = tf.tensor(values(size(statShape), 5), statShape);
    const r = tf.tensor(values(size(xShape), 6), xShape);
    const f = (...inputs: tf.Tensor[]) => {
      const [xs, m, v, o, s] = inputs as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      return tf.sum(tf.mul(tf.batchNorm(xs, m, v, o, s, 1e-3), r));
    };
    return tf.grads(f)([x, mean, variance, offset, scale]);
  });
  try {
    return (await Promise.all(result.map((t) => t.data()))) as Float32Array[];
  } finally {
    tf.dispose(result);
  }
}

describe('the lean FusedBatchNorm gradient', () => {
  test.each(CASES)("equals tfjs-core's own for $name, and leaks nothing", async (testCase) => {
    await selectBackend('cpu');
    tf.registerGradient(original);
    const expected = await gradients(testCase);
    useLeanBatchNormGradient();
    const before = tf.memory().numTensors;
    const actual = await gradients(testCase);
    expect(tf.memory().numTensors).toBe(before);
    expect(actual.length).toBe(expected.length);
    actual.forEach((gradient, input) => {
      expect(gradient.length).toBe(expected[input]!.length);
      gradient.forEach((value, i) => expect(value, `input ${input}, element ${i}`).toBeCloseTo(expected[input]![i]!, 4));
    });
  });
});
