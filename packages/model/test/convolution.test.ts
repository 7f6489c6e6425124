import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, test } from 'vitest';
import { conv2d } from '../src/convolution.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (count: number, seed: number) => Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37 + seed));

/** Two convolutions without bias from `make`, on fixed weights: the loss Σ y·r and the kernels its gradients ran. */
async function twoConvolutions(make: typeof tfl.layers.conv2d) {
  const images = tfl.input({ shape: [9, 9, 3] });
  const first = make({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(images) as tfl.SymbolicTensor;
  const second = make({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }).apply(first) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: images, outputs: second });
  tf.tidy(() => model.setWeights(model.getWeights().map((w, i) => tf.tensor(values(w.size, i + 1), w.shape))));
  const x = tf.tensor4d(values(2 * 9 * 9 * 3, 7), [2, 9, 9, 3]);
  let gradients: tf.Tensor[] = [];
  const profile = await tf.profile(() => {
    const { grads } = tf.variableGrads(() => {
      const y = model.apply(x, { training: true }) as tf.Tensor;
      return tf.sum(tf.mul(y, tf.tensor(values(y.size, 9), y.shape))) as tf.Scalar;
    });
    gradients = Object.values(grads);
  });
  const result = {
    gradients: gradients.map((g) => Array.from(g.dataSync())),
    kernels: profile.kernels.map((kernel) => kernel.name),
    json: model.toJSON(null, false),
  };
  tf.dispose([x, ...gradients]);
  model.dispose();
  return result;
}

describe('conv2d', () => {
  test("skips the input gradient nothing needs (the batch's), with tfjs-layers' filter gradients bit for bit", async () => {
    const ours = await twoConvolutions(conv2d);
    const theirs = await twoConvolutions(tfl.layers.conv2d);
    const count = (kernels: string[], name: string) => kernels.filter((kernel) => kernel === name).length;
    expect(count(theirs.kernels, 'Conv2DBackpropInput')).toBe(2);
    expect(count(ours.kernels, 'Conv2DBackpropInput')).toBe(1);
    expect(count(ours.kernels, 'Conv2DBackpropFilter')).toBe(2);
    expect(ours.gradients).toHaveLength(2);
    expect(ours.gradients).toEqual(theirs.gradients);
  });

  test("saves as tfjs-layers' Conv2D, so a saved model needs nothing of rxvision", async () => {
    const { json } = await twoConvolutions(conv2d);
    const classes = (json as { config: { layers: { class_name: string }[] } }).config.layers.map((layer) => layer.class_name);
    expect(classes).toEqual(['InputLayer', 'Conv2D', 'Conv2D']);
  });

  test('with a bias or an activation, it is tfjs-layers’ own call', () => {
    const layer = conv2d({ filters: 2, kernelSize: 1, activation: 'relu' });
    const reference = tfl.layers.conv2d({ filters: 2, kernelSize: 1, activation: 'relu' });
    const x = tf.tensor4d(values(2 * 3 * 3 * 2, 4), [2, 3, 3, 2]);
    [layer, reference].forEach((l) => l.build(x.shape));
    reference.setWeights(layer.getWeights());
    expect(Array.from((layer.apply(x) as tf.Tensor).dataSync())).toEqual(Array.from((reference.apply(x) as tf.Tensor).dataSync()));
  });
});
