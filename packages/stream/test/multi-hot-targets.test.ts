import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { concatMap, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, expect, test } from 'vitest';
import { epochBatches, mixup, multiHotTargets } from '../src/index.js';
import { tinyDataset } from './fixtures.js';

beforeAll(async () => void (await tf.setBackend('cpu')));

// Row r shows the classes of r's binary digits (row 5: classes 0 and 2; row 0: none).
const labelsOf = (row: number) => [0, 1, 2].filter((c) => (row >> c) & 1);
const pulled = (transforms: Parameters<typeof epochBatches>[1]['transforms']) =>
  lastValueFrom(
    epochBatches(tinyDataset(8), { batchSize: 8, seed: 3, transforms })(0).pipe(
      concatMap((pending) => pending),
      toArray(),
    ),
  );

test("multiHotTargets: each image's ys are 1 for every class it shows, on the device and the host", async () => {
  const [batch] = await pulled([multiHotTargets({ classes: 3, labelsOf })]);
  const ys = batch!.ys.arraySync() as number[][];
  expect(batch!.ys.dtype).toBe('float32');
  Array.from(batch!.rows).forEach((row, i) => {
    expect(ys[i]).toEqual([0, 1, 2].map((c) => (labelsOf(row).includes(c) ? 1 : 0)));
    expect(Array.from(batch!.targets!.subarray(3 * i, 3 * i + 3))).toEqual(ys[i]);
  });
  batch!.dispose();
});

test('mixup after it mixes the multi-hot targets; a label outside the classes is one line naming the row', async () => {
  const [batch] = await pulled([multiHotTargets({ classes: 3, labelsOf }), mixup({ alpha: 1, classes: 3, seed: 1 })]);
  const targets = batch!.targets!;
  // Every mixed target is λ·own + (1 − λ)·partner's (image i with image 7 − i) for one λ.
  const own = (i: number) => labelsOf(batch!.rows[i]!).map(Number);
  const hot = (i: number) => [0, 1, 2].map((c) => (own(i).includes(c) ? 1 : 0));
  const lambdas = new Set<string>();
  for (let i = 0; i < 8; i++)
    for (let c = 0; c < 3; c++) {
      const [mine, partner] = [hot(i)[c]!, hot(7 - i)[c]!];
      if (mine !== partner) lambdas.add((mine === 1 ? targets[3 * i + c]! : 1 - targets[3 * i + c]!).toFixed(5));
      else expect(targets[3 * i + c]).toBeCloseTo(mine, 6);
    }
  expect(lambdas.size).toBe(1);
  batch!.dispose();
  await expect(pulled([multiHotTargets({ classes: 2, labelsOf })])).rejects.toThrow(/^multiHotTargets: row \d has label 2, outside 0..1$/);
});
