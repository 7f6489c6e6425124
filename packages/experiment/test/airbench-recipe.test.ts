import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';
import { whiteningKernel } from '@rxvision/model';
import { fit, type TrainingEvent } from '@rxvision/train';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { composeExperiment, parseExperiment } from '../src/index.js';

// airbench's parts from an experiment file: the whitening layer set from the data as the model sees
// it, and the optimizer, schedule, groups, lookahead and test-time augmentation handed to fit.
const SIZE = 25;
let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'rxvision-airbench-'));
  // The smallest images airbench's pools take, and few of them: the cpu backend's filter gradient is slow.
  const writer = await ImageDatasetWriter.create(join(dir, 'images.arrow'), { classes: ['a', 'b'], shape: [SIZE, SIZE, 3], rows: 40 });
  for (let row = 0; row < 40; row++)
    await writer.append(
      Uint8Array.from(
        { length: SIZE * SIZE * 3 },
        (_, i) => (row % 2 ? 140 : 40) + ((row * 17 + i * 13 + Math.floor(i / (SIZE * 3)) * 5) % 90),
      ),
      row % 2,
    );
  await writer.commit();
});
afterAll(() => rm(dir, { recursive: true, force: true }));

test('an airbench experiment: its whitening from the first training images, normalised; its parts in fit', async () => {
  const normalize = { mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3] };
  const experiment = parseExperiment(
    {
      seed: 5,
      dataset: { type: 'arrow', train: join(dir, 'images.arrow'), test: join(dir, 'images.arrow') },
      validation: 10,
      batchSize: 15,
      model: { type: 'airbench', widths: [4, 4, 4], whitenImages: 20 },
      augment: [
        { type: 'horizontalFlip', alternate: true },
        { type: 'randomCrop', padding: 2, fill: 'reflect' },
      ],
      normalize,
      optimizer: { type: 'sgd', momentum: 0.85, nesterov: true, weightDecay: 0.001 },
      parameterGroups: [
        { match: '/beta$', learningRateScale: 64 },
        { match: '^whiten/bias$', epochs: 1 },
      ],
      schedule: { type: 'triangle', epochs: 2, peak: 0.1 },
      lookahead: { every: 1 },
      labelSmoothing: 0.2,
      testTimeAugmentation: 'mirror-translate',
    },
    'fast.json',
  );
  const composed = await composeExperiment(experiment, { baseDir: dir });
  const model = composed.createModel();
  // The kernel a user gets from whiteningKernel on the first 20 training images, as the model sees them.
  const pixels = new Float32Array(20 * SIZE * SIZE * 3);
  for (let i = 0; i < 20; i++)
    composed.train
      .image(i)
      .forEach((v, p) => (pixels[i * SIZE * SIZE * 3 + p] = (v / 255 - normalize.mean[p % 3]!) / normalize.std[p % 3]!));
  const expected = whiteningKernel(pixels, [20, SIZE, SIZE, 3]);
  const kernel = model.weights
    .find((w) => w.originalName === 'whiten/kernel')!
    .read()
    .dataSync();
  Array.from(kernel).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
  expect(composed.fitOptions).toMatchObject({
    lookahead: { every: 1 },
    testTimeAugmentation: 'mirror-translate',
    parameterGroups: experiment.parameterGroups,
  });
  const events: TrainingEvent[] = await lastValueFrom(fit(model, composed.fitOptions).pipe(toArray()));
  expect(events.filter((e) => e.type === 'epoch')).toHaveLength(2);
  expect(
    model.weights
      .find((w) => w.originalName === 'whiten/kernel')!
      .read()
      .dataSync(),
  ).toEqual(kernel); // frozen
  model.dispose();
  await composed.close();
});
