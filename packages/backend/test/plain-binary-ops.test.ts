import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { kernelPatches } from '../src/index.js';
import { selectBackend } from '../src/node/index.js';

/** Deterministic values with fractions and signs: float32 rounding shows if the arithmetic differs. */
const values = (count: number, seed: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(seed * 7 + i * 1.3) * 10);

const CASES: [string, number[], number[]][] = [
  ['same shape', [2, 3, 4, 5], [2, 3, 4, 5]],
  ['a scalar second', [2, 3, 4], []],
  ['a scalar first', [], [3, 4]],
  ['a single value of rank 2', [3, 4], [1, 1]],
  ['a bias over the channels', [2, 3, 3, 8], [8]],
  ['the trailing two axes, first', [3, 4], [2, 5, 3, 4]],
  ['a broadcast in the middle (the original kernel)', [2, 3, 4], [2, 1, 4]],
];

async function results(backend: 'cpu' | 'onednn-cpu') {
  await selectBackend(backend, { threads: 2 });
  const out: Record<string, number[]> = {};
  for (const [name, aShape, bShape] of CASES) {
    const a = tf.tensor(values(tf.util.sizeFromShape(aShape), 1), aShape);
    const b = tf.tensor(values(tf.util.sizeFromShape(bShape), 2), bShape);
    for (const op of ['add', 'sub', 'mul'] as const) {
      const y = tf[op](a, b);
      out[`${name}: ${op}`] = [...y.shape, ...(await y.data())];
      y.dispose();
    }
    tf.dispose([a, b]);
  }
  return out;
}

test('Add, Sub and Multiply on onednn-cpu give cpu’s values exactly, in every broadcast the plain loops take and one they leave', async () => {
  const expected = await results('cpu');
  const actual = await results('onednn-cpu');
  expect(actual).toEqual(expected);
  expect(
    kernelPatches('onednn-cpu')
      .filter((p) => p.by === 'plain-binary-ops')
      .map((p) => p.kernel),
  ).toEqual(['Add', 'Sub', 'Multiply']);
});
