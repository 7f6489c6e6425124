import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { describe, expect, test } from 'vitest';
import { loadOnnxRuntime, MAT_MUL_KERNELS, selectBackend } from '../src/node/index.js';

// onnxruntime-node is a dev dependency here (an optional peer for users; the root package.json's
// allowScripts refuses its CUDA download); these tests fail, rather than skip, where it is missing.
const runtime = loadOnnxRuntime();

describe('onnxruntime sessions', () => {
  test('writes a model onnxruntime loads and runs, with named dimensions', () => {
    const session = runtime.session(
      {
        nodes: [
          { op: 'Transpose', inputs: ['x'], outputs: ['t'] },
          { op: 'Relu', inputs: ['t'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', dims: ['rows', 3] }],
        outputs: [{ name: 'y', dims: [3, 'rows'] }],
      },
      1,
    );
    const y = new Float32Array(6);
    session.run({ x: { data: Float32Array.from([1, -2, 3, -4, 5, -6]), dims: [2, 3] } }, { y: { data: y, dims: [3, 2] } });
    expect(Array.from(y)).toEqual([1, 0, 0, 5, 3, 0]);
  });
});

/** Every product the matMul kernels see: transpositions, fused bias and activations, batches. */
function products(): number[][] {
  const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(seed * 31 + i * 1.7) * 2);
  const cases: Array<() => tf.Tensor> = [];
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const a = () => tf.tensor2d(values(5 * 7, 1), ta ? [7, 5] : [5, 7]);
    const b = () => tf.tensor2d(values(7 * 3, 2), tb ? [3, 7] : [7, 3]);
    cases.push(() => tf.matMul(a(), b(), ta, tb));
    for (const activation of ['linear', 'relu', 'elu'] as const) {
      // elu: wasm's own
      cases.push(() => tf.fused.matMul({ a: a(), b: b(), transposeA: ta, transposeB: tb, bias: tf.tensor1d(values(3, 3)), activation }));
    }
  }
  cases.push(() => tf.matMul(tf.tensor3d(values(2 * 5 * 7, 6), [2, 5, 7]), tf.tensor3d(values(2 * 7 * 3, 7), [2, 7, 3]))); // batched: wasm's own
  cases.push(() => tf.matMul(tf.tensor3d(values(5 * 7, 8), [1, 5, 7]), tf.tensor2d(values(7 * 3, 9), [7, 3])));
  return cases.map((make) => tf.tidy(() => Array.from(make().dataSync())));
}

function expectClose(actual: number[][], expected: number[][]): void {
  expect(actual.map((row) => row.length)).toEqual(expected.map((row) => row.length));
  actual.forEach((row, i) =>
    row.forEach((value, j) =>
      expect(Math.abs(value - expected[i]![j]!), `product ${i}, element ${j}`).toBeLessThan(1e-5 + 1e-5 * Math.abs(expected[i]![j]!)),
    ),
  );
}

describe('the onnxruntime backend', () => {
  test('computes every product as cpu does, on one thread and on two (a shared heap), and leaks nothing', async () => {
    await selectBackend('cpu');
    const expected = products();
    for (const threads of [1, 2]) {
      const report = await selectBackend('onnxruntime', { threads });
      expect(report).toMatchObject({ backend: 'onnxruntime', package: 'onnxruntime-node', threads, gpu: false });
      expect(report.summary).toContain(`onnxruntime-node ${runtime.version} for matrix products`);
      const before = tf.memory().numTensors;
      expectClose(products(), expected);
      expect(tf.memory().numTensors).toBe(before);
    }
  }, 120_000);

  test('replaces the product kernels for itself alone: wasm keeps its own, and its own results', async () => {
    await selectBackend('cpu');
    const expected = products();
    await selectBackend('wasm', { threads: 1 });
    const onWasm = products();
    expectClose(onWasm, expected); // wasm's own transposed _FusedMatMul was wrong; the explicit transposes mend it
    await selectBackend('onnxruntime', { threads: 1 });
    for (const kernel of MAT_MUL_KERNELS)
      expect(tf.getKernel(kernel, 'onnxruntime')!.kernelFunc).not.toBe(tf.getKernel(kernel, 'wasm')!.kernelFunc);
    const tensor = tf.tensor1d([1, 2, 3]); // made on onnxruntime, read again on wasm: one heap
    await selectBackend('wasm', { threads: 1 });
    expect(products()).toEqual(onWasm);
    expect(Array.from(tensor.dataSync())).toEqual([1, 2, 3]);
    tensor.dispose();
  }, 120_000);

  test('trains a dense network as wasm does', async () => {
    const losses = async (backend: 'wasm' | 'onnxruntime') => {
      await selectBackend(backend, { threads: 1 });
      return tf.tidy(() => {
        const w1 = tf.variable(
          tf.tensor2d(
            Array.from({ length: 12 * 8 }, (_, i) => Math.cos(i) / 4),
            [12, 8],
          ),
        );
        const w2 = tf.variable(
          tf.tensor2d(
            Array.from({ length: 8 * 3 }, (_, i) => Math.sin(i) / 3),
            [8, 3],
          ),
        );
        const x = tf.tensor2d(
          Array.from({ length: 16 * 12 }, (_, i) => (i % 7) / 7),
          [16, 12],
        );
        const labels = tf.oneHot(
          tf.tensor1d(
            Array.from({ length: 16 }, (_, i) => i % 3),
            'int32',
          ),
          3,
        );
        const optimizer = tf.train.sgd(0.5);
        const result: number[] = [];
        for (let step = 0; step < 5; step++) {
          const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.relu(tf.matMul(x, w1)), w2)), true)!;
          result.push(loss.dataSync()[0]!);
        }
        w1.dispose();
        w2.dispose();
        return result;
      });
    };
    const wasm = await losses('wasm');
    const ours = await losses('onnxruntime');
    expect(ours[4]).toBeLessThan(ours[0]!);
    ours.forEach((loss, i) => expect(loss).toBeCloseTo(wasm[i]!, 5));
  }, 120_000);
});
