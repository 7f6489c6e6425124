import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { BackendMemoryError } from '../src/index.js';
import { selectBackend } from '../src/node/index.js';

// tfjs-wasm's malloc returns null when its 4 GB heap is full, and tfjs writes through that pointer
// ("memory access out of bounds"); a request of 4 GB or more it takes modulo 2^32. Both are a
// BackendMemoryError before anything is written, and the backend goes on working. (A request that
// would grow the heap past 4 GB, which once returned a block past its end, is the CLI's test of a
// batch that does not fit, on onednn.) Its own file: the test leaves this worker's heap near 4 GB.
beforeAll(async () => {
  await selectBackend('wasm', { threads: 1 });
}, 60_000);

describe('the wasm heap guard', () => {
  test('a tensor of 4 GB or more is refused, not allocated short', () => {
    const before = tf.memory().numTensors;
    expect(() => tf.zeros([1025, 1024, 1024])).toThrow(BackendMemoryError);
    expect(() => tf.zeros([1025, 1024, 1024])).toThrow(
      "the wasm backend's memory is full (tfjs-wasm's heap, at most 4.0 GB): 4,100 MB more did not fit",
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  test('filling the heap ends in BackendMemoryError; once freed, the backend computes as before', () => {
    // Two blocks of 1.65 GiB grow the heap to about 3.3 GiB; a third does not fit.
    const held: tf.Tensor[] = [];
    let error: unknown;
    try {
      for (let i = 0; i < 3; i++) held.push(tf.fill([442_368_000], i + 1));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BackendMemoryError);
    expect(held.map((tensor) => tf.slice(tensor, [tensor.size - 1], [1]).dataSync()[0])).toEqual([1, 2]);
    tf.dispose(held);
    expect(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0]).toBe(11);
  });
});
