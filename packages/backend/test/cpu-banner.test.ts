import * as tf from '@tensorflow/tfjs-core';
import { expect, test, vi } from 'vitest';
import { selectBackend } from '../src/node/index.js';

// A file of its own: the banner shows once per process, at the cpu backend's first write.
test('the cpu backend writes no banner to stderr: the report says what was not available', async () => {
  const warn = vi.spyOn(console, 'warn');
  try {
    await selectBackend('cpu');
    expect(tf.tensor([1, 2]).dataSync()).toEqual(Float32Array.from([1, 2]));
    expect(warn).not.toHaveBeenCalled();
  } finally {
    warn.mockRestore();
  }
});
