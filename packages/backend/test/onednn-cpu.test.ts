import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { kernelPatches } from '../src/index.js';
import { selectBackend } from '../src/node/index.js';

// onednn's tensors live in tfjs-wasm's heap, at most 4 GB; onednn-cpu's are the process's arrays.
test("onednn-cpu holds a 4.5 GiB tensor, more than the wasm heap can, and oneDNN's kernels sum it", async () => {
  const report = await selectBackend('onednn-cpu', { threads: 2 });
  expect(report).toMatchObject({ backend: 'onednn-cpu', gpu: false, threads: 2 });
  expect(kernelPatches('onednn-cpu').map((patch) => patch.kernel)).toEqual(
    expect.arrayContaining(['Sum', 'Conv2D', 'Conv2DBackpropFilter', '_FusedMatMul', 'RxvisionActivation', 'RxvisionBatchNormTraining']),
  );
  // 4.5 GiB of zeros, its pages untouched but for the few values written here.
  const [rows, columns] = [9 * 2 ** 20, 128];
  const x = tf.zeros([rows, columns]);
  try {
    expect(tf.memory().numBytes).toBeGreaterThanOrEqual(4.5 * 2 ** 30);
    const values = (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(x.dataId).values;
    expect(values.length).toBe(rows * columns);
    [values[0], values[(rows - 1) * columns], values[(2 ** 23 + 7) * columns + 5]] = [1.5, 2, 3];
    // A sum over the leading axis: oneDNN's sumRows (float64 sums), reading every row of the 4.5 GiB.
    const sums = tf.sum(x, 0);
    const expected = new Float32Array(columns);
    [expected[0], expected[5]] = [3.5, 3];
    expect(Array.from(await sums.data())).toEqual(Array.from(expected));
    sums.dispose();
  } finally {
    x.dispose();
  }
}, 120_000);
