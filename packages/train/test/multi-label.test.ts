import '@tensorflow/tfjs-backend-cpu';
import { createRandom, ImageDataset } from '@rxvision/dataset';
import { meanAveragePrecision } from '@rxvision/metrics';
import { createMlp } from '@rxvision/model';
import { epochBatches, multiHotTargets } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom, toArray } from 'rxjs';
import { beforeAll, expect, test } from 'vitest';
import { evaluate, fit, parseSchedule, sigmoidCrossEntropy, type TrainingEvent } from '../src/index.js';

beforeAll(async () => void (await tf.setBackend('cpu')));

/**
 * Multi-label toy images, 4×4 RGB: each of red, green and blue is present or not (a fair coin each),
 * and a present colour brightens its channel, with noise. The dataset's one label is the first
 * colour present; `labelSets` has them all.
 */
function multiLabelToy(rows: number, seed: number) {
  const random = createRandom(seed);
  const pixels = new Uint8Array(rows * 48);
  const labelSets = Array.from({ length: rows }, () => [0, 1, 2].filter(() => random.nextInt(2) === 1));
  labelSets.forEach((present, r) => {
    for (let p = 0; p < 16; p++)
      for (let c = 0; c < 3; c++) pixels[r * 48 + p * 3 + c] = (present.includes(c) ? 60 : 0) + random.nextInt(160);
  });
  const labels = Uint8Array.from(labelSets, (present) => present[0] ?? 0);
  const dataset = ImageDataset.fromArrays({ classes: ['red', 'green', 'blue'], shape: [4, 4, 3], pixels, labels }, 'colours');
  return { dataset, transforms: [multiHotTargets({ classes: 3, labelsOf: (row) => labelSets[row]! })] };
}

test('multi-label: sigmoid cross-entropy on multi-hot targets learns every colour an image shows, by mean average precision', async () => {
  const train = multiLabelToy(300, 1);
  const validation = multiLabelToy(120, 2);
  const model = createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [16], seed: 4 });
  const validationBatches = () => epochBatches(validation.dataset, { batchSize: 40, transforms: validation.transforms })(0);
  const metrics = { mAP: meanAveragePrecision() };
  const before = await lastValueFrom(evaluate(model, validationBatches(), metrics, sigmoidCrossEntropy()));
  const events = await lastValueFrom(
    fit(model, {
      schedule: parseSchedule('6@0.2'),
      trainBatches: epochBatches(train.dataset, { batchSize: 20, seed: 43, transforms: train.transforms }),
      validationBatches,
      loss: sigmoidCrossEntropy(),
      validationLoss: sigmoidCrossEntropy(),
      metrics,
    }).pipe(toArray()),
  );
  const history = (events.at(-1) as Extract<TrainingEvent, { type: 'end' }>).history;
  const last = history.at(-1)!;
  expect(before.metrics.mAP).toBeLessThan(0.8); // the untrained network's
  expect(last.metrics!.mAP).toBeGreaterThan(0.95);
  expect(last.valLoss).toBeLessThan(0.6 * before.loss);
  model.dispose();
}, 60_000);
