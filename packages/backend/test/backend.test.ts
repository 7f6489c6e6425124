import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { describe, expect, test } from 'vitest';
import { MissingKernelError, useExplicitTransposeMatMul } from '../src/index.js';
import { BACKEND_CHOICES, selectBackend } from '../src/node/index.js';

const processHandlers = () => [...process.listeners('uncaughtException'), ...process.listeners('unhandledRejection')];
/** Before any test loads a backend: whichever loads wasm's glue first must not leave its handlers. */
const handlersBeforeAnyBackend = processHandlers();

describe('selectBackend', () => {
  test('auto falls back past what does not load and says why', async () => {
    const report = await selectBackend('auto');
    expect(tf.getBackend()).toBe(report.backend);
    expect(BACKEND_CHOICES).toContain(report.backend);
    // Which packages are passed over depends on the machine (a GPU, tfjs-node's addon); each has its reason, in the summary.
    for (const { package: name, reason } of report.skipped) {
      expect(reason).not.toBe('');
      expect(report.summary).toContain(`${name}: ${reason}`);
    }
    console.log(report.summary);
    // CI installs oneDNN (.ci/run), so the native CPU backend must be what auto finds there, short of a GPU.
    if (process.env.CI && report.backend !== 'tensorflow' && report.backend !== 'webgpu') expect(report.backend).toBe('onednn');
  });

  test('wasm leaves no rethrowing process handlers behind (they made every uncaught error print 60 KB of its minified glue)', async () => {
    await selectBackend('wasm', { threads: 2 });
    expect(tf.getBackend()).toBe('wasm');
    // Vitest takes its own away while a test runs: only what was added counts.
    expect(processHandlers().filter((handler) => !handlersBeforeAnyBackend.includes(handler))).toEqual([]);
  });

  test('an explicit choice is honoured', async () => {
    const report = await selectBackend('cpu');
    expect(report).toMatchObject({ backend: 'cpu', gpu: false, skipped: [] });
    expect(tf.getBackend()).toBe('cpu');
  });

  // Einsum stands for any kernel a model may need that wasm lacks (cpu and WebGPU have it).
  const needsEinsum = () => tf.tidy(() => tf.einsum('ij,jk->ik', tf.ones([2, 3]), tf.ones([3, 2])));

  test('a chosen backend that lacks a kernel the model needs is refused in one line', async () => {
    const error = await selectBackend('wasm', { probe: needsEinsum }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingKernelError);
    expect((error as Error).message).toMatch(
      /^the model needs the Einsum kernel, which the wasm backend lacks; backends that have it: (webgpu, )?cpu$/,
    );
  });

  test('auto passes over a backend that lacks a kernel the model needs', async () => {
    const report = await selectBackend('auto', { probe: needsEinsum });
    expect(report.backend).not.toBe('wasm');
    expect(report.backend).not.toBe('onnxruntime');
    expect(report.backend).not.toBe('onednn');
    expect(report.skipped).toContainEqual({ package: '@tensorflow/tfjs-backend-wasm', reason: 'lacks the Einsum kernel the model needs' });
    expect(report.skipped).toContainEqual({ package: 'onnxruntime-node', reason: 'lacks the Einsum kernel the model needs' });
    expect(needsEinsum().shape).toEqual([2, 2]);
  });

  test('auto passes over the wasm heap for a probe it cannot hold, to onednn-cpu', async () => {
    // One 4.5 GiB tensor: the wasm heap's malloc refuses it at once; cpu's zeros leave its pages untouched.
    const needsMoreThanTheHeap = () =>
      tf.tidy(() => {
        expect(tf.zeros([9 * 2 ** 27]).size).toBe(9 * 2 ** 27);
      });
    const before = tf.memory().numTensors;
    const report = await selectBackend('auto', { probe: needsMoreThanTheHeap, threads: 2 });
    const heapTooSmall = "the model's probe does not fit tfjs-wasm's heap (at most 4 GB)";
    expect(report.backend).toBe('onednn-cpu');
    for (const name of ['@rxvision/dnnl-linux-x64', 'onnxruntime-node', '@tensorflow/tfjs-backend-wasm'])
      expect(report.skipped).toContainEqual({ package: name, reason: heapTooSmall });
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  test('an unknown choice is refused', async () => {
    await expect(selectBackend('tpu' as never)).rejects.toThrow('unknown backend "tpu"');
  });
});

describe('useExplicitTransposeMatMul', () => {
  test('gives the same products for every transposition, on wasm and on cpu', async () => {
    const a = [...Array(12).keys()].map((i) => ((i * 7) % 5) - 2);
    const b = [...Array(12).keys()].map((i) => ((i * 3) % 7) - 3);
    const products = (): number[][] =>
      [
        [false, false, [3, 4], [4, 3]],
        [true, false, [4, 3], [4, 3]],
        [false, true, [3, 4], [3, 4]],
        [true, true, [4, 3], [3, 4]],
      ].map(([ta, tb, sa, sb]) =>
        tf.tidy(() =>
          Array.from(
            tf
              .matMul(tf.tensor2d(a, sa as [number, number]), tf.tensor2d(b, sb as [number, number]), ta as boolean, tb as boolean)
              .dataSync(),
          ),
        ),
      );
    await selectBackend('cpu');
    const expected = products();
    await selectBackend('wasm'); // patches wasm's BatchMatMul
    const before = tf.memory().numTensors;
    expect(products()).toEqual(expected);
    expect(tf.memory().numTensors).toBe(before);
    useExplicitTransposeMatMul('wasm'); // idempotent
    expect(products()).toEqual(expected);
  });
});

describe('threads', () => {
  test('wasm runs the threads asked for, and two threads compute exactly what one computes', async () => {
    // A convolution's gradients and a matrix product: the work XNNPACK splits across threads.
    const work = (): number[] =>
      tf.tidy(() => {
        const x = tf.tensor4d(
          Array.from({ length: 2 * 16 * 16 * 8 }, (_, i) => Math.sin(i)),
          [2, 16, 16, 8],
        );
        const w = tf.tensor4d(
          Array.from({ length: 3 * 3 * 8 * 16 }, (_, i) => Math.cos(i)),
          [3, 3, 8, 16],
        );
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'))),
        )([x, w]);
        const m = tf.matMul(tf.reshape(x, [32, 128]), tf.tile(tf.reshape(tf.slice(w, [0, 0, 0, 0], [1, 1, 8, 16]), [128, 1]), [1, 64]));
        return [...dx!.dataSync(), ...dw!.dataSync(), ...m.dataSync()];
      });
    const one = await selectBackend('wasm', { threads: 1 });
    expect(one.threads).toBe(1);
    const expected = work();
    const two = await selectBackend('wasm', { threads: 2 });
    expect(two).toMatchObject({ backend: 'wasm', threads: 2 });
    expect(two.summary).toContain('with 2 threads');
    expect(work()).toEqual(expected);
  });

  test('a thread count that is not a positive integer is refused', async () => {
    await expect(selectBackend('wasm', { threads: 0 })).rejects.toThrow('threads must be a positive integer, got 0');
  });
});
