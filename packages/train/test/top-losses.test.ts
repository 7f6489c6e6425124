import '@tensorflow/tfjs-backend-cpu';
import { createMlp } from '@rxvision/model';
import { epochBatches } from '@rxvision/stream';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom } from 'rxjs';
import { beforeAll, expect, test } from 'vitest';
import { evaluate } from '../src/index.js';
import { toyDataset } from './fixtures.js';

beforeAll(async () => void (await tf.setBackend('cpu')));

test("evaluate's top losses are the dataset rows the model gets most wrong, by a prediction of each row on its own", async () => {
  const data = toyDataset(50, 3);
  const model = createMlp({ inputShape: [4, 4, 3], classes: 3, hidden: [8], seed: 2 });
  // Shuffled batches of 16: rows are the dataset's, not places in the stream.
  const { topLosses } = await lastValueFrom(evaluate(model, epochBatches(data, { batchSize: 16, seed: 9 })(0), {}, undefined, 'none', 5));
  // Each row predicted alone from its pixels, its loss −log softmax[label].
  const losses = Array.from({ length: data.length }, (_, row) =>
    tf.tidy(() => {
      const x = tf.tensor4d(
        Float32Array.from(data.image(row), (v) => v / 255),
        [1, 4, 4, 3],
      );
      const logProbabilities = tf.logSoftmax(model.predict(x) as tf.Tensor2D);
      return -logProbabilities.dataSync()[data.label(row)]!;
    }),
  );
  const expected = losses
    .map((loss, row) => ({ loss, row }))
    .sort((a, b) => b.loss - a.loss)
    .slice(0, 5);
  expect(topLosses!.map((top) => top.row)).toEqual(expected.map((e) => e.row));
  topLosses!.forEach((top, i) => {
    expect(top.loss).toBeCloseTo(expected[i]!.loss, 5);
    expect(top.label).toBe(data.label(top.row));
  });
  model.dispose();
});
