import '@tensorflow/tfjs-backend-cpu';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { layers, sequential } from '@tensorflow/tfjs-layers';
import { filter, lastValueFrom, map, toArray } from 'rxjs';
import { beforeAll, expect, test } from 'vitest';
import { fit, parseSchedule } from '../src/index.js';
import { toyDataset } from './fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

test('soak: over 60 epochs, numTensors is the same at every epoch end and RSS stays flat', async () => {
  // A small network, so that many epochs take seconds; the pipeline is the real one.
  const model = sequential({
    layers: [layers.flatten({ inputShape: [4, 4, 3] }), layers.dense({ units: 32, activation: 'relu' }), layers.dense({ units: 3 })],
  });
  const train = toyDataset(512, 7);
  const validation = toyDataset(128, 8);
  const samples = await lastValueFrom(
    fit(model, {
      schedule: parseSchedule('30@0.05,30@0.01'),
      trainBatches: epochBatches(train, { batchSize: 32, seed: 1, prefetch: 2 }),
      validationBatches: () => epochBatches(validation, { batchSize: 64 })(0),
    }).pipe(
      filter((event) => event.type === 'epoch'),
      map(() => ({ tensors: tf.memory().numTensors, rss: process.memoryUsage().rss })),
      toArray(),
    ),
  );
  expect(samples).toHaveLength(60);
  expect(new Set(samples.map((s) => s.tensors)).size).toBe(1);
  const growth = samples.at(-1)!.rss - samples[9]!.rss; // after warm-up
  expect(growth).toBeLessThan(64 * 1024 * 1024);
  model.dispose();
}, 300_000);
