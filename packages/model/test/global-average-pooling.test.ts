import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, test } from 'vitest';
import { globalAveragePooling2d } from '../src/global-average-pooling.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The layer's output and input gradient of Σ y·r, and the kernels the gradient ran. */
async function pooled(layer: tfl.layers.Layer) {
  const x = tf.tensor4d(
    Float32Array.from({ length: 3 * 5 * 7 * 4 }, (_, i) => Math.sin(i * 0.37)),
    [3, 5, 7, 4],
  );
  const r = tf.tensor2d(
    Float32Array.from({ length: 3 * 4 }, (_, i) => Math.cos(i)),
    [3, 4],
  );
  let outputs: tf.Tensor[] = [];
  const profile = await tf.profile(() => {
    const { value, grad } = tf.valueAndGrad((input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, r)))(x);
    outputs = [value, grad];
  });
  const [value, gradient] = outputs.map((t) => Array.from(t.dataSync()));
  tf.dispose([x, r, ...outputs]);
  return { value, gradient, kernels: profile.kernels.map((kernel) => kernel.name) };
}

describe('globalAveragePooling2d', () => {
  test("spreads the gradient with one broadcast, tfjs-layers' values bit for bit", async () => {
    const ours = await pooled(globalAveragePooling2d({}));
    const theirs = await pooled(tfl.layers.globalAveragePooling2d({}));
    expect(ours.value).toEqual(theirs.value);
    expect(ours.gradient).toEqual(theirs.gradient);
    // tfjs's Mean gradient multiplies the full dy by ones it made, then divides; this one divides, then spreads.
    expect(theirs.kernels.slice(-2)).toEqual(['Multiply', 'RealDiv']);
    expect(ours.kernels.slice(-2)).toEqual(['RealDiv', 'Multiply']);
  });

  test("saves as tfjs-layers' GlobalAveragePooling2D", () => {
    expect(globalAveragePooling2d({}).getClassName()).toBe('GlobalAveragePooling2D');
  });
});
