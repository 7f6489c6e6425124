import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { checkAirbenchOptions, createAirbench, symmetricEigen, whiteningKernel } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const small = { inputShape: [32, 32, 3] as const, classes: 10, widths: [8, 16, 16] as const };

describe('createAirbench', () => {
  test("airbench94's layers and sizes: 2×2 whitening to 24 channels, three blocks, logits scaled by 1/9", () => {
    const model = createAirbench({ inputShape: [32, 32, 3], classes: 10 });
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
    expect(model.countParams()).toBe(checkAirbenchOptions({ inputShape: [32, 32, 3], classes: 10 }));
    const shapes = Object.fromEntries(model.layers.map((layer) => [layer.name, layer.outputShape]));
    expect(shapes.whiten).toEqual([null, 31, 31, 24]);
    expect([shapes.block1_conv2, shapes.block2_conv2, shapes.block3_conv2]).toEqual([
      [null, 15, 15, 64],
      [null, 7, 7, 256],
      [null, 3, 3, 256],
    ]);
    // About 1.97 million parameters, as airbench94's network has.
    expect(model.countParams()).toBeGreaterThan(1_950_000);
    expect(model.countParams()).toBeLessThan(2_000_000);
    model.dispose();
  });

  test('the whitening kernel and every batch-norm scale are frozen; biases, convolutions and the head train', async () => {
    const model = createAirbench({ ...small, seed: 1 });
    // Frozen for good: a training step (the model's first use) leaves them as they were.
    const named = (name: string) =>
      model.weights
        .find((w) => w.originalName === name || w.originalName.endsWith(name))!
        .read()
        .dataSync()
        .slice();
    const [kernel, bias] = [named('whiten/kernel'), named('whiten/bias')];
    const optimizer = tf.train.sgd(0.5);
    optimizer.minimize(
      () =>
        tf.sum(tf.square(model.apply(tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1), { training: true }) as tf.Tensor)) as tf.Scalar,
    );
    expect(named('whiten/kernel')).toEqual(kernel);
    expect(named('whiten/bias')).not.toEqual(bias);
    expect(
      model.weights.filter((w) => w.originalName.endsWith('/gamma')).every((w) => Array.from(w.read().dataSync()).every((g) => g === 1)),
    ).toBe(true);
    const trained = model.trainableWeights.map((w) => (w as unknown as { originalName: string }).originalName);
    expect(trained).toContain('whiten/bias');
    expect(trained).not.toContain('whiten/kernel');
    expect(trained.filter((name) => name.endsWith('/gamma'))).toEqual([]);
    expect(trained.filter((name) => name.endsWith('/beta'))).toHaveLength(6);
    expect(trained).toContain('logits/kernel');
    model.dispose();
  });

  test('each convolution starts as the identity on its first input-width filters (dirac), the others uniform in ±1/√fan-in', () => {
    const model = createAirbench({ ...small, seed: 2 });
    const layer = model.getLayer('block2_conv2'); // 16 → 16: every filter passes its own channel
    const input = tf.randomNormal([1, 5, 5, 16], 0, 1, 'float32', 3);
    const output = layer.apply(input) as tf.Tensor;
    expect(Array.from(output.dataSync()).every((v, i) => Math.abs(v - input.dataSync()[i]!) < 1e-6)).toBe(true);
    const widening = model.getLayer('block2_conv1').getWeights()[0]!; // 8 → 16: filters 8..15 are random
    const [kh, kw, cin, filters] = widening.shape as [number, number, number, number];
    const values = widening.dataSync();
    const rest = Array.from(values).filter((_, i) => i % filters >= cin);
    expect(rest.every((v) => Math.abs(v) <= 1 / Math.sqrt(kh * kw * cin))).toBe(true);
    expect(new Set(rest).size).toBeGreaterThan(rest.length / 2);
    tf.dispose([input, output]);
    model.dispose();
  });

  test('refuses images too small for its pools, and widths that are not three', () => {
    expect(() => createAirbench({ inputShape: [16, 16, 3], classes: 10 })).toThrow(
      'createAirbench: its pools need images of at least 25×25, got 16×16',
    );
    expect(() => createAirbench({ inputShape: [32, 32, 3], classes: 10, widths: [8, 8] as unknown as [number, number, number] })).toThrow(
      'createAirbench: widths must be three block widths, got [8, 8]',
    );
  });
});

describe('whitening', () => {
  test('symmetricEigen: A·v = λ·v for every pair, the vectors orthonormal', () => {
    const d = 6;
    const m = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) m[i * d + j] = m[j * d + i] = Math.sin(i * 3 + j * 5) + (i === j ? 3 : 0);
    const { values, vectors } = symmetricEigen(m, d);
    for (let k = 0; k < d; k++) {
      for (let i = 0; i < d; i++) {
        let av = 0;
        for (let j = 0; j < d; j++) av += m[i * d + j]! * vectors[j * d + k]!;
        expect(av).toBeCloseTo(values[k]! * vectors[i * d + k]!, 10);
      }
      for (let l = 0; l < d; l++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += vectors[i * d + k]! * vectors[i * d + l]!;
        expect(dot).toBeCloseTo(k === l ? 1 : 0, 10);
      }
    }
  });

  test('the filters whiten the patches: their responses are uncorrelated, each of variance λ/(λ + ε); the second half negates the first', () => {
    // Images with strongly correlated neighbours and channels, plus noise (so no direction is empty).
    const [n, h, w, c] = [20, 8, 8, 3];
    const images = new Float32Array(n * h * w * c);
    let state = 12345;
    const noise = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.6;
    for (let i = 0; i < images.length; i++) {
      const pixel = Math.floor(i / c);
      images[i] = Math.sin(pixel * 0.37) + 0.5 * Math.cos(pixel * 1.9 + (i % c)) + 0.1 * (i % c) + noise();
    }
    const epsilon = 5e-4;
    const kernel = whiteningKernel(images, [n, h, w, c], { kernelSize: 2, epsilon });
    const d = 12;
    const responses = tf.tidy(
      () =>
        tf
          .reshape(tf.conv2d(tf.tensor4d(images, [n, h, w, c]), tf.tensor4d(kernel, [2, 2, c, 2 * d]), 1, 'valid'), [-1, 2 * d])
          .arraySync() as number[][],
    );
    const second = (a: number, b: number) => responses.reduce((sum, r) => sum + r[a]! * r[b]!, 0) / responses.length;
    for (let a = 0; a < d; a++) {
      expect(second(a, a)).toBeGreaterThan(0.9); // λ/(λ + ε): near 1 where λ ≫ ε
      expect(second(a, a)).toBeLessThanOrEqual(1 + 1e-3);
      for (let b = a + 1; b < d; b++) expect(Math.abs(second(a, b))).toBeLessThan(1e-3);
      expect(responses.every((r) => Math.abs(r[a]! + r[a + d]!) < 1e-5)).toBe(true);
    }
  });
});
