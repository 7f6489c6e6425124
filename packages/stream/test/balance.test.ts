import '@tensorflow/tfjs-backend-cpu';
import { ImageDataset } from '@rxvision/dataset';
import * as tf from '@tensorflow/tfjs-core';
import { concatMap, lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { epochBatches } from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// 1,000 rows: class 0 holds 900, class 1 holds 80, class 2 holds 20.
const labels = Uint8Array.from({ length: 1000 }, (_, r) => (r < 900 ? 0 : r < 980 ? 1 : 2));
const dataset = ImageDataset.fromArrays({ classes: ['a', 'b', 'c'], shape: [1, 1, 1], pixels: new Uint8Array(1000), labels }, 'imbalanced');

async function epochRows(epoch: number, options: { balanced?: boolean; skip?: number } = {}): Promise<number[]> {
  const batches = epochBatches(dataset, { batchSize: 100, seed: 3, balanced: options.balanced ?? true })(epoch, options.skip ?? 0);
  const all = await lastValueFrom(
    batches.pipe(
      concatMap((pending) => pending),
      toArray(),
    ),
  );
  const rows = all.flatMap((batch) => Array.from(batch.rows));
  all.forEach((batch) => batch.dispose());
  return rows;
}

describe('class-balanced sampling', () => {
  test("an epoch draws as many rows as the dataset has, each class about a third of them (WeightedRandomSampler's 1/count)", async () => {
    const rows = await epochRows(0);
    expect(rows).toHaveLength(1000);
    const counts = [0, 0, 0];
    for (const row of rows) counts[labels[row]!]!++;
    // Binomial(1000, ⅓): a standard deviation of 15; within 5 of them.
    for (const count of counts) expect(Math.abs(count - 1000 / 3)).toBeLessThan(75);
    // Rows are drawn with replacement, each within its class uniformly: class 2's 20 rows all appear.
    expect(new Set(rows.filter((row) => labels[row] === 2)).size).toBe(20);
    // Unbalanced, an epoch is a permutation with class 2 at 2%.
    const plain = await epochRows(0, { balanced: false });
    expect([...plain].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  test('drawn from (seed, epoch) alone: the same epoch again, or resumed at its fourth batch, draws the same rows', async () => {
    const rows = await epochRows(2);
    expect(await epochRows(2)).toEqual(rows);
    expect(await epochRows(2, { skip: 3 })).toEqual(rows.slice(300));
    expect(await epochRows(3)).not.toEqual(rows);
  });

  test('without a seed it is one line', () => {
    expect(() => epochBatches(dataset, { batchSize: 100, balanced: true })).toThrow('epochBatches: balanced sampling needs a seed');
  });
});
