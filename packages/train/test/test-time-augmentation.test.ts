import '@tensorflow/tfjs-backend-cpu';
import { ImageDataset } from '@rxvision/dataset';
import { evaluationBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { layers, sequential } from '@tensorflow/tfjs-layers';
import { lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { augmentedLogits, evaluate } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const [H, W, C, K] = [4, 5, 2, 3];
/** A linear model whose logits are known by hand: logits[k] = Σ w[k][y][x][c]·x[y][x][c]. */
function linearModel(seed: number) {
  const model = sequential({ layers: [layers.flatten({ inputShape: [H, W, C] }), layers.dense({ units: K, useBias: false })] });
  const weights = Float32Array.from({ length: H * W * C * K }, (_, i) => Math.sin(seed * 7 + i * 1.3));
  tf.tidy(() => model.layers[1]!.setWeights([tf.tensor2d(weights, [H * W * C, K])]));
  const logits = (image: (y: number, x: number, c: number) => number) =>
    Array.from({ length: K }, (_, k) => {
      let sum = 0;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) for (let c = 0; c < C; c++) sum += image(y, x, c) * weights[((y * W + x) * C + c) * K + k]!;
      return sum;
    });
  return { model, logits };
}

const reflect = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);

describe('test-time augmentation', () => {
  test('gives the logits of the views, averaged as airbench weighs them (worked out by hand on a linear model)', () => {
    const { model, logits } = linearModel(1);
    const pixels = Float32Array.from({ length: 2 * H * W * C }, (_, i) => Math.cos(i * 0.7));
    const at = (n: number) => (y: number, x: number, c: number) => pixels[((n * H + y) * W + x) * C + c]!;
    const mirror = (image: (y: number, x: number, c: number) => number) => (y: number, x: number, c: number) => image(y, W - 1 - x, c);
    const shift = (image: (y: number, x: number, c: number) => number, d: number) => (y: number, x: number, c: number) =>
      image(reflect(y + d, H), reflect(x + d, W), c);
    const both = (image: (y: number, x: number, c: number) => number) => logits(image).map((v, k) => (v + logits(mirror(image))[k]!) / 2);
    const xs = tf.tensor4d(pixels, [2, H, W, C]);
    for (const n of [0, 1]) {
      const image = at(n);
      const expected = {
        none: logits(image),
        mirror: both(image),
        'mirror-translate': both(image).map((v, k) => 0.5 * v + 0.25 * (both(shift(image, -1))[k]! + both(shift(image, 1))[k]!)),
      };
      for (const [augmentation, wanted] of Object.entries(expected)) {
        const got = tf.tidy(() => augmentedLogits(model, xs, augmentation as 'none').arraySync() as number[][]);
        got[n]!.forEach((v, k) => expect(v, `${augmentation}, image ${n}, class ${k}`).toBeCloseTo(wanted[k]!, 5));
      }
    }
    xs.dispose();
    model.dispose();
  });

  test('evaluate scores the augmented logits: a model that reads one edge answers otherwise once its views are mirrored', async () => {
    // Class 0: the bright column is at the left edge; class 1: at the right edge. The model looks
    // only at the left edge, so it is right on class 0 and no better than its bias on class 1;
    // averaged with the mirror, it sees both edges and is right on all of them.
    const rows = 20;
    const pixels = new Uint8Array(rows * H * W * C);
    const labels = Uint8Array.from({ length: rows }, (_, r) => r % 2);
    for (let r = 0; r < rows; r++)
      for (let y = 0; y < H; y++) for (let c = 0; c < C; c++) pixels[((r * H + y) * W + (labels[r] === 0 ? 0 : W - 1)) * C + c] = 255;
    const images = ImageDataset.fromArrays({ classes: ['left', 'right'], shape: [H, W, C], pixels, labels }, 'edges');
    const model = sequential({ layers: [layers.flatten({ inputShape: [H, W, C] }), layers.dense({ units: 2 })] });
    const kernel = new Float32Array(H * W * C * 2);
    for (let y = 0; y < H; y++) for (let c = 0; c < C; c++) kernel[((y * W + 0) * C + c) * 2 + 0] = 1; // left edge → class 0
    tf.tidy(() => model.layers[1]!.setWeights([tf.tensor2d(kernel, [H * W * C, 2]), tf.tensor1d([0, 2])])); // else class 1
    const before = tf.memory().numTensors;
    const accuracy = async (augmentation: 'none' | 'mirror') =>
      (await lastValueFrom(evaluate(model, evaluationBatches(images, { batchSize: 6 })(), {}, undefined, augmentation))).accuracy;
    expect(await accuracy('none')).toBe(1); // left edge 8·1 = 8 > 2; right: 0 < 2
    // Mirrored, a left image scores (8 + 0)/2 = 4 > 2 and a right one (0 + 8)/2 = 4 > 2 for class 0: wrong on every right one.
    expect(await accuracy('mirror')).toBe(0.5);
    expect(tf.memory().numTensors).toBe(before); // every view disposed
    model.dispose();
  });

  test('an unknown augmentation, and a translation of inputs that are not images, are refused', () => {
    const { model } = linearModel(2);
    expect(() => augmentedLogits(model, tf.zeros([1, H, W, C]), 'rotate' as 'none')).toThrow(
      'test-time augmentation must be one of none, mirror, mirror-translate, got rotate',
    );
    const flat = sequential({ layers: [layers.dense({ inputShape: [6], units: 2 })] });
    expect(() => augmentedLogits(flat, tf.zeros([1, 6]), 'mirror')).toThrow(
      'test-time augmentation mirror needs images [n, height, width, channels], got rank 2',
    );
  });
});
