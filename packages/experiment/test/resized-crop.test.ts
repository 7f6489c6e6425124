import '@tensorflow/tfjs-backend-cpu';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageDatasetWriter } from '@rxvision/dataset/node';
import * as tf from '@tensorflow/tfjs-core';
import { concatMap, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { composeExperiment, parseExperiment } from '../src/index.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'rxvision-crop-'));
  for (const [file, rows] of [
    ['train.arrow', 60],
    ['test.arrow', 10],
  ] as const) {
    const writer = await ImageDatasetWriter.create(join(dir, file), { classes: ['a', 'b'], shape: [12, 10, 3], rows });
    for (let row = 0; row < rows; row++)
      await writer.append(
        Uint8Array.from({ length: 360 }, (_, i) => (i * 7 + row) % 256),
        row % 2,
      );
    await writer.commit();
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const experiment = (augment: unknown[]) =>
  parseExperiment(
    {
      dataset: { type: 'arrow', train: join(dir, 'train.arrow'), test: join(dir, 'test.arrow') },
      validation: 10,
      batchSize: 10,
      model: { type: 'mlp', hidden: [4] },
      augment,
      normalize: 'imagenet',
      schedule: [{ epochs: 1, learningRate: 0.1 }],
    },
    'photos.json',
  );

test('a random resized crop sets the model input; training crops at random, validation and test crop the centre', async () => {
  const composed = await composeExperiment(experiment([{ type: 'randomResizedCrop', size: [8, 6] }, { type: 'horizontalFlip' }]));
  try {
    const model = composed.createModel();
    expect(model.inputs[0]!.shape).toEqual([null, 8, 6, 3]);
    model.dispose();
    const shapes = async (batches: () => ReturnType<NonNullable<typeof composed.fitOptions.validationBatches>>) => {
      const all = await lastValueFrom(
        batches().pipe(
          concatMap((pending) => pending),
          toArray(),
        ),
      );
      const result = all.map((batch) => batch.xs.shape);
      all.forEach((batch) => tf.dispose([batch.xs, batch.ys]));
      return result;
    };
    expect(await shapes(() => composed.fitOptions.trainBatches(0, 0))).toEqual(Array(5).fill([10, 8, 6, 3]));
    expect(await shapes(composed.fitOptions.validationBatches!)).toEqual([[10, 8, 6, 3]]);
    expect(await shapes(composed.testBatches!)).toEqual([[10, 8, 6, 3]]);
  } finally {
    await composed.close();
  }
});

test('a crop larger than the images is one line', async () => {
  await expect(composeExperiment(experiment([{ type: 'randomResizedCrop', size: [16, 8] }]), { source: 'photos.json' })).rejects.toThrow(
    'photos.json: augment: a randomResizedCrop of 16×8 from 12×10 images',
  );
});
