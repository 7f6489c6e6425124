import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { kernelPatches } from '../src/index.js';
import { selectBackend } from '../src/node/index.js';

// onednn's tensors live in tfjs-wasm's heap, at most 4 GB; onednn-cpu's are the process's arrays.
test('onednn-cpu holds more than the wasm heap can: five 1 GiB tensors, four made by oneDNN, each exact', async () => {
  const report = await selectBackend('onednn-cpu', { threads: 2 });
  expect(report).toMatchObject({ backend: 'onednn-cpu', gpu: false, threads: 2 });
  expect(kernelPatches('onednn-cpu').map((patch) => patch.kernel)).toEqual(
    expect.arrayContaining(['Conv2D', 'Conv2DBackpropFilter', '_FusedMatMul', 'RxvisionActivation', 'RxvisionBatchNormTraining']),
  );
  const elements = 2 ** 28; // 1 GiB of float32
  const values = new Float32Array(elements);
  for (let i = 0; i < elements; i++) values[i] = (i % 1024) - 512;
  const x = tf.tensor1d(values);
  const activations = ['relu', 'relu', 'sigmoid', 'tanh'].map(
    (activation) => tf.engine().runKernel('RxvisionActivation', { x }, { activation }) as tf.Tensor,
  );
  try {
    expect(tf.memory().numBytes).toBe(5 * 2 ** 30);
    const at = [0, 511, 512, 513, elements - 1];
    const xs = at.map((i) => (i % 1024) - 512);
    const reads = await Promise.all(activations.map((a) => a.data()));
    const picked = reads.map((values) => at.map((i) => values[i]!));
    expect(picked[0]).toEqual(xs.map((v) => Math.max(v, 0)));
    expect(picked[1]).toEqual(picked[0]);
    picked[2]!.forEach((v, i) => expect(v).toBeCloseTo(1 / (1 + Math.exp(-xs[i]!)), 6));
    picked[3]!.forEach((v, i) => expect(v).toBeCloseTo(Math.tanh(xs[i]!), 6));
  } finally {
    tf.dispose([x, ...activations]);
  }
}, 120_000);
