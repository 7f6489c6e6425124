import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { selectBackend } from '../src/node/index.js';

test('on onnxruntime (and wasm) a clone shares its data, outlives the original, and frees it with the last reference', async () => {
  await selectBackend('onnxruntime', { threads: 1 });
  const before = tf.memory();
  const original = tf.tensor([1, 2, 3, 4], [2, 2]);
  const copy = tf.clone(original);
  expect((tf.memory() as { numDataBuffers: number }).numDataBuffers - (before as { numDataBuffers: number }).numDataBuffers).toBe(1); // one buffer, two tensors
  original.dispose();
  expect(Array.from(await copy.data())).toEqual([1, 2, 3, 4]);
  copy.dispose();
  expect([tf.memory().numTensors, tf.memory().numBytes]).toEqual([before.numTensors, before.numBytes]);
});

test('a training step that saves tensors for its backward pass leaks nothing and matches cpu', async () => {
  const step = async () => {
    const x = tf.tidy(() =>
      tf.variable(
        tf.tensor([
          [0.5, -1, 2],
          [1, 0.25, -0.5],
        ]),
      ),
    );
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(tf.relu(tf.matMul(x, x, false, true)), tf.sum(tf.sigmoid(x)))) as tf.Scalar,
      [x],
    );
    const result = { value: (await value.data())[0]!, gradient: Array.from(await grads[x.name]!.data()) };
    tf.dispose([value, grads[x.name]!, x]);
    return result;
  };
  await selectBackend('cpu');
  const expected = await step();
  await selectBackend('onnxruntime', { threads: 1 });
  const before = tf.memory();
  const actual = await step();
  expect([tf.memory().numTensors, tf.memory().numBytes]).toEqual([before.numTensors, before.numBytes]);
  expect(actual.value).toBeCloseTo(expected.value, 4);
  actual.gradient.forEach((g, i) => expect(g).toBeCloseTo(expected.gradient[i]!, 4));
});

test('a cast to the dtype a tensor has shares its data too; a cast to another dtype converts', async () => {
  await selectBackend('onednn', { threads: 1 });
  const before = tf.memory() as { numDataBuffers: number };
  const original = tf.tensor([1.5, -2.25, 3], [3]);
  const same = tf.cast(original, 'float32');
  expect((tf.memory() as { numDataBuffers: number }).numDataBuffers - before.numDataBuffers).toBe(1);
  const converted = tf.cast(original, 'int32');
  expect((tf.memory() as { numDataBuffers: number }).numDataBuffers - before.numDataBuffers).toBe(2);
  original.dispose();
  expect([Array.from(await same.data()), Array.from(await converted.data()), converted.dtype]).toEqual([
    [1.5, -2.25, 3],
    [1, -2, 3],
    'int32',
  ]);
  tf.dispose([same, converted]);
  expect((tf.memory() as { numDataBuffers: number }).numDataBuffers).toBe(before.numDataBuffers);
});
