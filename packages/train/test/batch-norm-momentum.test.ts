import '@tensorflow/tfjs-backend-cpu';
import { createCnn, DEFAULT_BATCH_NORM_MOMENTUM } from '@rxvision/model';
import { epochBatches, evaluationBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom } from 'rxjs';
import { beforeAll, expect, test } from 'vitest';
import { evaluate, fit } from '../src/index.js';
import { toyDataset } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// The case: a CNN with batch norm, two short epochs, validated in inference mode.
const train = toyDataset(160, 5);
const validation = toyDataset(60, 6);

async function twoEpochs(batchNormMomentum: number) {
  const model = createCnn({ inputShape: [4, 4, 3], classes: 3, blocks: [8], seed: 2, batchNormMomentum });
  await lastValueFrom(
    fit(model, { schedule: [{ epochs: 2, learningRate: 0.05 }], trainBatches: epochBatches(train, { batchSize: 16, seed: 1 }) }),
  );
  const { loss } = await lastValueFrom(evaluate(model, evaluationBatches(validation, { batchSize: 60 })()));
  // How far the running mean is from the first batch norm's inputs' true mean, over the training images.
  const norm = model.layers.find((layer) => layer.getClassName() === 'BatchNormalization')!;
  const drift = tf.tidy(() => {
    const pixels = new Float32Array(train.length * 48);
    for (let row = 0; row < train.length; row++)
      pixels.set(
        Float32Array.from(train.image(row), (v) => v / 255),
        row * 48,
      );
    const images = tf.tensor4d(pixels, [train.length, 4, 4, 3]);
    const convolved = model.layers[0]!.apply(images) as tf.Tensor;
    const actual = tf.mean(convolved, [0, 1, 2]);
    const running = norm.getWeights()[2]!;
    return tf.max(tf.abs(tf.sub(running, actual))).dataSync()[0]! / tf.max(tf.abs(actual)).dataSync()[0]!;
  });
  model.dispose();
  return { loss, drift };
}

test("batch norm's default momentum (0.9, PyTorch's 0.1) tracks the data in two short epochs, where tfjs's 0.99 does not", async () => {
  expect(DEFAULT_BATCH_NORM_MOMENTUM).toBe(0.9);
  const [ours, tfjs] = [await twoEpochs(DEFAULT_BATCH_NORM_MOMENTUM), await twoEpochs(0.99)];
  expect(ours.drift).toBeLessThan(0.25);
  expect(tfjs.drift).toBeGreaterThan(0.5);
  expect(ours.loss).toBeLessThan(0.75 * tfjs.loss); // inference normalises with the statistics it kept
});
